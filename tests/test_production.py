"""Production smoke test: ShipBridge installed as an operator installs it and run as deploy/ runs it
(README, "Production").

A fresh virtual environment gets `pip install .`, no extras. Then, on the throw-away PostgreSQL
and Redis that scripts/test starts, with DEBUG off, keys made here and the production environment
file (deploy/shipbridge.env.example with this machine's addresses): `migrate` and `collectstatic`
through the operator wrapper deploy/bin/shipbridge, and the ExecStart commands of the systemd units
in deploy/systemd — gunicorn, a Celery worker for each queue, beat — run from a folder outside the
checkout, so only the installed package is used. Over HTTP: the login page and its stylesheet,
the health endpoints; a sandbox Custom Store added with `add_store` imports its orders at beat's
tick, and an order shipped with `ship_order` notifies the store exactly once. Everything started
is stopped, whatever happens.

Runs under scripts/test (SHIPBRIDGE_REQUIRE_SERVICES=1, where a missing service is a failure);
skipped without PostgreSQL and Redis. The installation takes pip's cache (the wheels scripts/bootstrap
downloaded)."""
import gzip
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests
from cryptography.fernet import Fernet

from shipbridge.keys import new_secret_key
from stores.sandbox.customstore import start_custom_store_sandbox, store_settings
from tests.utils import stop_quickly, wait_for

pytestmark = [pytest.mark.services, pytest.mark.production]

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("shipbridge-web.service", "shipbridge-worker-imports.service",
         "shipbridge-worker-notifications.service", "shipbridge-beat.service")
UNIT_VENV = "/opt/shipbridge/venv"  # where the units and the wrapper expect the virtual environment
TICK_SECONDS = 3  # beat's "Refresh due stores" tick, short for the test (SHIPBRIDGE_REFRESH_TICK_SECONDS)
REQUIRE_SERVICES = os.environ.get("SHIPBRIDGE_REQUIRE_SERVICES") == "1"


def _services() -> tuple[str, str]:
    """The PostgreSQL server and Redis of scripts/test (skip without them, fail when required)."""
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("SHIPBRIDGE_TEST_REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        if REQUIRE_SERVICES:
            pytest.fail("the production smoke test needs scripts/test's PostgreSQL and Redis")
        pytest.skip("no PostgreSQL and Redis: run scripts/test for the production smoke test")
    return database_url, redis_url


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=path))


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines, as systemd's EnvironmentFile and sh read them (comments skipped, one
    level of double quotes removed)."""
    values = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        values[key.strip()] = value
    return values


def write_env_file(path: Path, values: dict[str, str]) -> None:
    path.write_text("".join(f'{key}="{value}"\n' if " " in value else f"{key}={value}\n"
                            for key, value in values.items()))
    path.chmod(0o600)


def unit_command(unit: str, venv: Path, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """A unit's ExecStart as systemd would run it here: its Environment= defaults under the
    environment file's values, `${VAR}` expanded, `%%` unescaped, the virtual environment's path
    replaced."""
    text = (DEPLOY / "systemd" / unit).read_text()
    unit_env = {**dict(re.findall(r"^Environment=(\w+)=(.*)$", text, re.M)), **env}
    command = re.search(r"^ExecStart=(.+)$", text, re.M).group(1).replace(UNIT_VENV, str(venv))
    command = re.sub(r"\$\{(\w+)\}", lambda m: unit_env[m.group(1)], command).replace("%%", "%")
    return shlex.split(command), unit_env


class Processes:
    """The long-running processes of the test, each in its own process group, logging to a file;
    stopped (SIGTERM, then SIGKILL) by stop_all()."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], *, env: dict[str, str], cwd: Path) -> None:
        with open(self.log_dir / f"{name}.log", "wb") as log:
            self.running[name] = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL, start_new_session=True)

    def log(self, name: str, tail: int = 4000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.log(name)}" for name in self.running)

    def assert_alive(self) -> None:
        for name, proc in self.running.items():
            assert proc.poll() is None, f"{name} exited with {proc.returncode}:\n{self.log(name)}"

    def stop_all(self) -> None:
        for proc in self.running.values():
            self._signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            self._signal(proc, signal.SIGKILL)  # the group: prefork children and gunicorn workers too
            proc.wait(timeout=10)

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def smoke_database():
    """A database of its own on scripts/test's PostgreSQL server, dropped after the module."""
    database_url, _ = _services()
    name = f"shipbridge_smoke_{os.getpid()}"
    admin_url = _with_path(database_url, "/postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_path(database_url, f"/{name}")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Left out of the copy `pip install .` runs in: setuptools' build/ keeps the files of earlier builds
# (a module deleted since would be installed again), and the rest is local state.
NOT_COPIED = {".git", ".venv", "build", "var", ".pytest_cache"}


def _not_source(folder, names):
    junk = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}
    return junk | (NOT_COPIED & set(names) if Path(folder) == ROOT else set())


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment with `pip install .` (no extras), run in a clean copy of the
    checkout, as in CI's fresh clone."""
    _services()
    home = tmp_path_factory.mktemp("production")
    source = home / "shipbridge"
    shutil.copytree(ROOT, source, ignore=_not_source)
    path = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    install = subprocess.run([str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                              "--quiet", "."], cwd=source, env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    return path


@pytest.fixture(scope="module")
def production(venv, smoke_database, tmp_path_factory):
    """ShipBridge running as deploy/ runs it: `migrate` and `collectstatic` through the wrapper,
    then web, a worker for each queue and beat from the units' commands. Yields `base` (the web
    address), `manage(*args)` (deploy/bin/shipbridge), `env` (the environment file's values) and
    `processes`."""
    _, redis_url = _services()
    home = tmp_path_factory.mktemp("production-run")
    var_dir = home / "var"  # what systemd's StateDirectory makes
    var_dir.mkdir()
    port = _free_port()
    env = read_env_file(DEPLOY / "shipbridge.env.example")
    env.update({
        # this machine's services and addresses instead of the template's examples
        "SECRET_KEY": new_secret_key(),
        "SHIPBRIDGE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": smoke_database,
        "CELERY_BROKER_URL": _with_path(redis_url, "/3"),  # a Redis database of its own
        "SHIPBRIDGE_VAR_DIR": str(var_dir),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        # plain HTTP on loopback, no proxy in front
        "SHIPBRIDGE_HTTPS": "false",
        "SHIPBRIDGE_TRUSTED_PROXIES": "0",
        "SHIPBRIDGE_SITE_URL": f"http://127.0.0.1:{port}",
        # the sandbox store listens on loopback
        "SHIPBRIDGE_EGRESS_ALLOW": "127.0.0.1",
        "SHIPBRIDGE_REFRESH_TICK_SECONDS": str(TICK_SECONDS),
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 2 --timeout 60",
        "SHIPBRIDGE_IMPORTS_CONCURRENCY": "1",
        "SHIPBRIDGE_NOTIFICATIONS_CONCURRENCY": "1",
    })
    env_file = home / "shipbridge.env"
    write_env_file(env_file, env)
    base_env = {"PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    wrapper_env = {**base_env, "SHIPBRIDGE_ENV_FILE": str(env_file), "SHIPBRIDGE_VENV": str(venv),
                   "SHIPBRIDGE_USER": _user()}

    def manage(*args, timeout=300):
        return subprocess.run([str(DEPLOY / "bin" / "shipbridge"), *args], cwd=home, env=wrapper_env,
                              capture_output=True, text=True, timeout=timeout)

    for step in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        result = manage(*step)
        assert result.returncode == 0, f"shipbridge {' '.join(step)}:\n{result.stdout[-2000:]}{result.stderr[-3000:]}"

    processes = Processes(home)
    try:
        for unit in UNITS:
            command, unit_env = unit_command(unit, venv, env)
            processes.start(unit.split(".")[0], command, env={**base_env, **unit_env}, cwd=var_dir)
        base = f"http://127.0.0.1:{port}"

        def web_answers():
            processes.assert_alive()
            try:  # the first answers wait for the app to load (several processes start at once)
                return requests.get(f"{base}/health/live/", timeout=30).status_code == 200
            except requests.RequestException:
                return False

        assert wait_for(web_answers, timeout=120, interval=0.5), processes.logs()
        yield SimpleNamespace(base=base, manage=manage, env=env, processes=processes)
    finally:
        processes.stop_all()
        print(processes.logs())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def _json_last_line(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- the installation -------------------------------------------------------------------------


def test_a_plain_pip_install_has_what_production_needs(venv, tmp_path):
    # Given `pip install .` without extras, in a folder outside the checkout
    python = str(venv / "bin" / "python")
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    # Then the Redis transport, the WSGI server and the static files' server import
    imports = subprocess.run([python, "-c", "import kombu.transport.redis, gunicorn, whitenoise"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert imports.returncode == 0, imports.stderr
    # and what pip installed is consistent
    check = subprocess.run([python, "-m", "pip", "check"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    # and ShipBridge comes from the virtual environment, with every file of the checkout's
    # packages, the top-level templates/ included (as shipbridge/templates)
    where = subprocess.run([python, "-c", "import shipbridge, sysconfig; print(shipbridge.__file__); "
                            "print(sysconfig.get_paths()['purelib'])"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    module, site_packages = where.stdout.split()
    assert Path(module).is_relative_to(site_packages), module
    missing = [source for source, installed in _packaged_files(Path(site_packages)) if not installed.is_file()]
    assert not missing, f"not installed by `pip install .`: {missing}"


def _packaged_files(site_packages: Path):
    """(checkout file, where `pip install .` must put it) for every file of the packages."""
    listed = subprocess.run(["git", "ls-files", "shipbridge", "stores", "orders", "templates", "locale"], cwd=ROOT,
                            capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout.strip():
        files = [ROOT / name for name in listed.stdout.split("\n") if name and (ROOT / name).is_file()]
    else:
        files = [p for folder in ("shipbridge", "stores", "orders", "templates", "locale")
                 for p in (ROOT / folder).rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts]
    assert len(files) > 50
    for path in files:
        relative = path.relative_to(ROOT)
        if relative.parts[0] in ("templates", "locale"):
            relative = Path("shipbridge", *relative.parts)
        yield relative.as_posix(), site_packages / relative


# --- the running installation --------------------------------------------------------------------


def test_the_login_page_and_its_compressed_cache_busted_stylesheet(production):
    # When a browser asks for the login page, with DEBUG off
    page = requests.get(f"{production.base}/admin/login/", timeout=10)
    assert page.status_code == 200
    assert "sb-panel" in page.text  # ShipBridge's own admin templates, from the installed package
    # Then its stylesheet has the content's hash in its name, and comes compressed and cached for good
    css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page.text)
    assert css, "the login page links the collected, content-hashed stylesheet"
    reply = requests.get(production.base + css.group(1), headers={"Accept-Encoding": "gzip"}, timeout=10,
                         stream=True)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/css")
    assert reply.headers.get("Content-Encoding") == "gzip"
    assert "immutable" in reply.headers.get("Cache-Control", "")
    assert b"--body-fg" in gzip.decompress(reply.raw.read())
    # and an unknown page is a plain 404, no debug page
    missing = requests.get(f"{production.base}/no-such-page/", timeout=10)
    assert missing.status_code == 404 and "URLconf" not in missing.text and "Traceback" not in missing.text


def test_health_is_green(production):
    live = requests.get(f"{production.base}/health/live/", timeout=10)
    assert live.status_code == 200 and live.text == "ok\n"

    # Readiness: green once a worker has handled beat's first tick
    def ready():
        production.processes.assert_alive()
        return requests.get(f"{production.base}/health/ready/?format=json", timeout=10).status_code == 200

    assert wait_for(ready, timeout=90, interval=1), (
        requests.get(f"{production.base}/health/ready/?format=json", timeout=10).text + production.processes.logs())
    checks = requests.get(f"{production.base}/health/ready/?format=json", timeout=10).json()
    assert len(checks) == 3 and set(checks.values()) == {"OK"}, checks


def test_a_store_added_by_command_imports_at_the_tick_and_a_shipment_notifies_it_once(production):
    sandbox = start_custom_store_sandbox(port=0, preset="custom_store", orders=8, live_every=None)
    try:
        # Given a sandbox Custom Store added with the operator command
        settings = store_settings(sandbox)
        added = production.manage("add_store", "--connector", "custom_store", "--name", "Smoke shop",
                                  "--merchant", "Smoke merchant",
                                  *[arg for key, value in settings.items() for arg in ("--set", f"{key}={value}")])
        assert added.returncode == 0, added.stderr
        store_id = added.stdout.strip().splitlines()[-1]
        assert store_id.isdigit()

        # When beat ticks, then the store's orders are imported: nobody asked for a refresh
        def runs():
            production.processes.assert_alive()
            with psycopg.connect(production.env["DATABASE_URL"]) as conn:
                return conn.execute("SELECT trigger, status FROM orders_importrun WHERE store_id = %s",
                                    [int(store_id)]).fetchall()

        assert wait_for(lambda: ("schedule", "succeeded") in runs(), timeout=90, interval=1), (
            runs(), production.processes.logs())
        assert {trigger for trigger, _ in runs()} == {"schedule"}
        orders = _json_last_line(production.manage("list_orders", "--store", store_id, "--json"))
        to_ship = next(o for o in orders if o["status"] == "awaiting_shipment")

        # When an order is shipped with the operator command (its notification goes to a worker)
        shipped = _json_last_line(production.manage(
            "ship_order", store_id, to_ship["order_number"], "--carrier", "UPS", "--service", "Ground",
            "--tracking", "1Z999AA10123456784"))
        assert shipped["notification"]["status"] == "pending", shipped

        # Then the store is told, exactly once
        def notices():
            production.processes.assert_alive()
            return [n for n in sandbox.state.notices if n.params.get("order_number") == to_ship["order_number"]]

        assert wait_for(notices, timeout=60, interval=0.5), production.processes.logs()
        time.sleep(3 * TICK_SECONDS)  # more ticks and worker turns: nothing is sent again
        assert len(notices()) == 1, notices()
        assert notices()[0].accepted and notices()[0].params.get("tracking_number") == "1Z999AA10123456784"
        orders = _json_last_line(production.manage("list_orders", "--store", store_id, "--json"))
        shipment = next(o for o in orders if o["order_number"] == to_ship["order_number"])["shipments"][0]
        assert shipment["notification"]["status"] == "sent", shipment
    finally:
        stop_quickly(sandbox)
