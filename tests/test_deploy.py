"""The production files agree with the code: pyproject.toml installs every package (and the
templates), the environment file (deploy/shipbridge.env.example) lists every setting
shipbridge/settings.py reads, and the systemd units (deploy/systemd) supervise every process, run
a worker for every queue and exactly one beat. tests/test_production.py runs them for real."""
import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

from shipbridge.keys import new_fernet_key, new_secret_key

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ENV_FILE = DEPLOY / "shipbridge.env.example"
SERVICES = sorted((DEPLOY / "systemd").glob("*.service"))


def settings_read_from_the_environment() -> set[str]:
    """Every variable shipbridge/settings.py reads through django-environ: env.X("NAME", ...),
    env("NAME"), environ.Env().X("NAME"), and the names declared in environ.Env(NAME=...)."""
    names = set()
    for node in ast.walk(ast.parse((ROOT / "shipbridge" / "settings.py").read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        reads_env = (
            (isinstance(func, ast.Name) and func.id == "env")
            or (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env")
            or (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
                and isinstance(func.value.func, ast.Attribute) and func.value.func.attr == "Env")
        )
        if reads_env and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            names.add(node.args[0].value)
        if isinstance(func, ast.Attribute) and func.attr == "Env":
            names.update(keyword.arg for keyword in node.keywords)
    return names


def env_file_names() -> dict[str, bool]:
    """Each name in the environment file: True when set, False when shown commented out."""
    names = {}
    for line in ENV_FILE.read_text().splitlines():
        match = re.match(r"^(#?)([A-Z][A-Z0-9_]*)=", line)
        if match:
            names[match.group(2)] = not match.group(1)
    return names


def test_the_environment_file_lists_every_setting():
    read = settings_read_from_the_environment()
    assert {"SECRET_KEY", "SHIPBRIDGE_VAR_DIR", "DATABASE_URL", "DEBUG", "ALLOWED_HOSTS",
            "SHIPBRIDGE_HEALTH_BEAT_STALE_SECONDS"} <= read  # the reader sees every spelling
    missing = read - set(env_file_names())
    assert not missing, f"add these settings to {ENV_FILE.relative_to(ROOT)} (commented out at their default): {missing}"


def test_the_environment_file_sets_what_production_needs_and_nothing_for_development_only():
    names = env_file_names()
    for required in ("SECRET_KEY", "SHIPBRIDGE_ENCRYPTION_KEYS", "DATABASE_URL", "CELERY_BROKER_URL",
                     "ALLOWED_HOSTS", "SHIPBRIDGE_VAR_DIR", "GUNICORN_CMD_ARGS"):
        assert names.get(required) is True, required
    for never in ("DEBUG", "SHIPBRIDGE_EMBEDDED", "CELERY_TASK_ALWAYS_EAGER"):
        assert names.get(never) is False, never


def test_the_environment_file_reads_alike_in_systemd_and_sh():
    # A set line: KEY=value without quotes or shell characters, or KEY="value with spaces"
    for line in ENV_FILE.read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r'[A-Z][A-Z0-9_]*=("[^"$`\\]*"|[^\s"\'$`\\;&|<>()]*)', line), line


def unit(path: Path) -> str:
    return path.read_text()


def exec_start(path: Path) -> str:
    return re.search(r"^ExecStart=(.+)$", unit(path), re.M).group(1)


def test_every_process_is_supervised_with_the_production_environment():
    assert {p.name for p in SERVICES} == {"shipbridge-web.service", "shipbridge-worker-imports.service",
                                           "shipbridge-worker-notifications.service", "shipbridge-beat.service"}
    for path in SERVICES:
        text = unit(path)
        assert re.search(r"^Restart=always$", text, re.M), path.name
        assert re.search(r"^EnvironmentFile=/etc/shipbridge/shipbridge.env$", text, re.M), path.name
        assert re.search(r"^User=shipbridge$", text, re.M), path.name
        assert re.search(r"^PartOf=shipbridge.target$", text, re.M), path.name
        assert re.search(r"^WantedBy=shipbridge.target$", text, re.M), path.name
        assert exec_start(path).startswith("/opt/shipbridge/venv/bin/"), path.name
    # every ${VAR} a unit uses has a default in the unit and a line in the environment file
    for path in SERVICES:
        for name in re.findall(r"\$\{(\w+)\}", exec_start(path)):
            assert re.search(rf"^Environment={name}=\S+$", unit(path), re.M), (path.name, name)
            assert name in env_file_names(), name


def test_the_workers_take_every_queue_and_beat_runs_once():
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE} | {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert queues == {"imports", "notifications"}
    taken = {}
    for path in SERVICES:
        command = exec_start(path)
        if " worker " in command:
            queue = re.search(r"--queues (\S+)", command).group(1)
            taken[queue] = path.name
            assert f"--hostname {queue}@%%h" in command  # one node name per queue and machine
    assert set(taken) == queues
    beats = [path for path in SERVICES if " beat " in exec_start(path)]
    assert len(beats) == 1 and "@" not in beats[0].name  # not a template: one instance


def test_the_units_are_valid_for_systemd(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("no systemd-analyze on this machine")
    venv = Path(sys.executable).parent.parent  # this environment has gunicorn and celery installed
    for path in [*SERVICES, DEPLOY / "systemd" / "shipbridge.target"]:
        (tmp_path / path.name).write_text(unit(path).replace("/opt/shipbridge/venv", str(venv)))
    result = subprocess.run([analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and not result.stderr.strip() and not result.stdout.strip(), result.stderr


def test_pyproject_installs_every_package_and_the_templates():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {".".join(init.parent.relative_to(ROOT).parts)
                for folder in ("shipbridge", "stores", "orders") for init in (ROOT / folder).rglob("__init__.py")}
    assert set(config["packages"]) == packages | {"shipbridge.templates", "shipbridge.locale"}, (
        "list every package in pyproject.toml's [tool.setuptools] packages")
    assert config["package-dir"] == {"shipbridge.templates": "templates", "shipbridge.locale": "locale"}
    assert config["package-data"]["shipbridge.templates"] == ["**/*"]
    assert config["package-data"]["shipbridge.locale"] == ["**/*.po", "**/*.mo"]


def test_the_production_dependencies_are_in_the_base_install_and_the_test_extra_has_only_test_tools():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {re.match(r"[A-Za-z0-9_.\-\[\]]+", spec).group(0).lower() for spec in project["dependencies"]}
    assert {"celery[redis]", "gunicorn", "whitenoise", "django-health-check", "psycopg[binary]"} <= base
    test_extra = {re.match(r"[A-Za-z0-9_.\-]+", spec).group(0).lower() for spec in project["optional-dependencies"]["test"]}
    assert test_extra == {"pytest", "pytest-django", "factory-boy", "playwright"}


def test_the_environment_file_passes_the_deploy_check(tmp_path):
    # The recipe's `shipbridge check --deploy --fail-level WARNING`, with the template's values and
    # the keys the recipe puts in
    values = {}
    for line in ENV_FILE.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value.strip('"')
    values.update(SECRET_KEY=new_secret_key(), SHIPBRIDGE_ENCRYPTION_KEYS=new_fernet_key(),
                  SHIPBRIDGE_VAR_DIR=str(tmp_path))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "shipbridge.settings", **values}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
