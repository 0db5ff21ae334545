"""The boundaries the code keeps, checked on its source: dependencies point one way (`orders`
builds on `stores`, never the reverse), connectors import no models or services, and no module
outside the connectors names a connector or branches on one."""
import ast
import pathlib

import pytest

from stores.connectors.registry import CONNECTOR_NAMES

ROOT = pathlib.Path(__file__).resolve().parent.parent


def modules(*folders: str, skip: tuple[str, ...] = ()) -> list[pathlib.Path]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or any(relative.startswith(s) for s in skip):
                continue
            found.append(path)
    assert found, folders
    return found


def package_of(path: pathlib.Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])


def imported_modules(source: str, package: str) -> set[str]:
    """Absolute names of every module `source` (a module of `package`) imports, relative
    imports resolved."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(filter(None, [*parent, base]))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", modules("stores"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_stores_never_imports_orders(path):
    imported = imported_modules(path.read_text(), package_of(path))
    assert not {n for n in imported if n == "orders" or n.startswith("orders.")}


@pytest.mark.parametrize("path", modules("stores/connectors"), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_connectors_import_no_models_services_or_orders(path):
    forbidden = ("orders", "stores.models", "stores.services", "stores.selectors", "stores.admin", "stores.forms",
                 "django.db", "django.contrib")
    imported = imported_modules(path.read_text(), package_of(path))
    assert not {n for n in imported if any(n == f or n.startswith(f + ".") for f in forbidden)}


OUTSIDE_CONNECTORS = modules("shipbridge", "stores", "orders", skip=(
    "stores/connectors/", "stores/sandbox/",
    # the demo's own sandbox stores
    "stores/management/commands/demo_setup.py", "stores/management/commands/run_sandboxes.py",
))


@pytest.mark.parametrize("path", OUTSIDE_CONNECTORS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_outside_the_connectors_names_a_connector(path):
    assert not string_literals(path.read_text()) & set(CONNECTOR_NAMES)


def string_literals(source: str) -> set[str]:
    return {node.value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_the_checks_see_what_they_look_for():
    # The helpers above find imports of orders however spelled, and a connector name in a test.
    source = "import orders.tasks\nfrom .. import orders\nfrom orders.models import Order\nif kind == 'acumatica':\n    pass\n"
    imported = imported_modules(source, "stores.sub")
    assert {"orders.tasks", "stores.orders", "orders.models.Order"} <= imported
    assert imported_modules("from ...orders import x", "stores.sub") >= {"orders", "orders.x"}
    assert "acumatica" in string_literals(source)
