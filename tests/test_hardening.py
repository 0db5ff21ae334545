"""Safe by default and hardened from the environment: no key ships in the source, a start without
keys is refused by a system check, HTTPS settings pass `check --deploy`, the embedded run keeps
keys of its own in var/, and logins are throttled (django-axes) with its records shown to
superusers only."""
import ast
import base64
import hashlib
import os
import re
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from django.contrib.auth.models import Permission
from django.test import Client
from django.test.client import RequestFactory
from django.urls import reverse

from shipbridge import checks, keys
from shipbridge.throttling import client_ip
from stores.models import User
from tests.factories import MerchantFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent


def clean_env(var_dir, **extra) -> dict:
    """An environment with nothing of this test run's (no keys, no DEBUG, the real settings)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SHIPBRIDGE_VAR_DIR": str(var_dir),
           "DJANGO_SETTINGS_MODULE": "shipbridge.settings", "CELERY_BROKER_URL": "memory://"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(extra)
    return env


def manage(*args, env, timeout=120):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def production_env(var_dir, **extra) -> dict:
    return clean_env(var_dir, SECRET_KEY=keys.new_secret_key(), SHIPBRIDGE_ENCRYPTION_KEYS=keys.new_fernet_key(),
                     ALLOWED_HOSTS="ship.example.com", **extra)


# --- safe by default ---------------------------------------------------------------------------

def test_a_start_without_keys_is_refused_by_the_system_checks(tmp_path):
    # Given DEBUG off and no key in the environment, when ShipBridge starts (check, as runserver
    # and migrate do), then it refuses with both errors, each naming its setting, and no traceback
    result = manage("check", env=clean_env(tmp_path, DEBUG="false"))
    assert result.returncode != 0
    assert "(shipbridge.E001) SECRET_KEY is not set" in result.stderr
    assert "(shipbridge.E002) SHIPBRIDGE_ENCRYPTION_KEYS is not set" in result.stderr
    assert "Traceback" not in result.stderr and "SystemCheckError" in result.stderr
    # DEBUG is off by default, and there is no development key to fall back to with it on either
    for debug in ({}, {"DEBUG": "true"}):
        result = manage("check", env=clean_env(tmp_path, **debug))
        assert result.returncode != 0 and "shipbridge.E001" in result.stderr and "shipbridge.E002" in result.stderr
    # the migrate of a first deployment is refused the same way, before touching the database
    result = manage("migrate", env=clean_env(tmp_path))
    assert result.returncode != 0 and "shipbridge.E001" in result.stderr
    database = tmp_path / "shipbridge.sqlite3"
    if database.exists():  # opened, perhaps, but empty
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_with_keys_the_checks_pass_and_debug_is_off(tmp_path):
    env = production_env(tmp_path)
    assert manage("check", env=env).returncode == 0
    shown = manage("shell", "-v", "0", "-c", "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, "
                   "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_AGE)", env=env)
    assert shown.stdout.split() == ["False", "False", "False", "0", str(12 * 3600)], shown.stderr


@pytest.mark.parametrize("overrides, error, named", [
    ({"SECRET_KEY": ""}, "shipbridge.E001", "SECRET_KEY"),
    ({"SHIPBRIDGE_ENCRYPTION_KEYS": []}, "shipbridge.E002", "SHIPBRIDGE_ENCRYPTION_KEYS"),
    ({"SHIPBRIDGE_ENCRYPTION_KEYS": [Fernet.generate_key().decode(), "not-a-fernet-key"]}, "shipbridge.E003",
     "SHIPBRIDGE_ENCRYPTION_KEYS: key 2 of 2"),
    ({"SESSION_COOKIE_AGE": 0, "SHIPBRIDGE_SESSION_HOURS": 0.0}, "shipbridge.E004", "SHIPBRIDGE_SESSION_HOURS"),
    ({"AXES_FAILURE_LIMIT": 0}, "shipbridge.E005", "AXES_FAILURE_LIMIT"),
])
def test_each_check_names_its_setting(settings, overrides, error, named):
    for name, value in overrides.items():
        setattr(settings, name, value)
    found = checks.keys_are_set(None) + checks.login_limits_are_sane(None)
    assert [e.id for e in found] == [error]
    assert found[0].msg.startswith(named)
    assert "not-a-fernet-key" not in found[0].msg + found[0].hint  # a key is never printed


def test_the_checks_pass_with_the_test_runs_keys():
    assert checks.keys_are_set(None) == [] and checks.login_limits_are_sane(None) == []


# --- no key in the source ----------------------------------------------------------------------

# sha256 of the development keys settings.py and bench/import_feed.py used to carry (a SECRET_KEY,
# a public Fernet key, the benchmark's SECRET_KEY): gone for good
FORMER_KEYS = {
    "33fb0ca5a2ba7eae3d6862af4c6b3543eac7993f8c4d9d81ddf45391eb2c0d51",
    "5079e0e7448e3296c5d5dc5a3669cfd5d8246b152b2bd0c5f22ef781f73cc2d8",
    "dbf6eb8ae3b3bbe376a8e051466512813d53684803d3baa32ec4c4a70c970dfa",
}
FERNET_LOOKING = re.compile(r"(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]{43}=(?![A-Za-z0-9_\-=])")


def tracked_python_files() -> list[Path]:
    """The repository's Python files (tracked, or new and not ignored)."""
    try:
        names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split()
        files = [ROOT / name for name in names]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        files = [p for p in ROOT.rglob("*.py") if not {".venv", "var", "node_modules"} & set(p.parts)]
    files = [f for f in files if f.exists()]
    assert len(files) > 50
    return files


def test_no_fernet_key_is_written_in_the_source():
    found = []
    for path in tracked_python_files():
        for token in FERNET_LOOKING.findall(path.read_text(encoding="utf-8")):
            try:
                if len(base64.urlsafe_b64decode(token)) == 32:
                    found.append(f"{path.relative_to(ROOT)}: {token[:6]}…")
            except ValueError:
                pass
    assert not found, found


def literal_secret_keys(tree) -> list[int]:
    """Lines giving SECRET_KEY a non-empty string literal: `SECRET_KEY = "…"`, `x.SECRET_KEY = "…"`,
    `f(SECRET_KEY="…")`, `environ["SECRET_KEY"] = "…"`, `setdefault("SECRET_KEY", "…")`,
    `{"SECRET_KEY": "…"}`."""
    def literal(node):
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value != ""

    def named(node):
        return isinstance(node, ast.Constant) and node.value == "SECRET_KEY"

    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and literal(node.value):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if (getattr(target, "id", None) == "SECRET_KEY" or getattr(target, "attr", None) == "SECRET_KEY"
                        or (isinstance(target, ast.Subscript) and named(target.slice))):
                    found.append(node.lineno)
        elif isinstance(node, ast.Call):
            if any(k.arg == "SECRET_KEY" and literal(k.value) for k in node.keywords):
                found.append(node.lineno)
            if any(named(a) and literal(b) for a, b in zip(node.args, node.args[1:])):
                found.append(node.lineno)
        elif isinstance(node, ast.Dict):
            if any(named(k) and literal(v) for k, v in zip(node.keys, node.values)):
                found.append(node.lineno)
    return found


def test_literal_secret_keys_are_found():
    for source in ('SECRET_KEY = "abc"', 'settings.SECRET_KEY = "abc"', 'os.environ["SECRET_KEY"] = "abc"',
                   'os.environ.setdefault("SECRET_KEY", "abc")', 'f(SECRET_KEY="abc")', 'd = {"SECRET_KEY": "abc"}'):
        assert literal_secret_keys(ast.parse(source)) == [1], source
    for source in ('SECRET_KEY = env.str("SECRET_KEY", default="")', 'f(SECRET_KEY=new_secret_key())',
                   'names = ("SECRET_KEY", "what it signs")'):
        assert literal_secret_keys(ast.parse(source)) == [], source


def test_no_secret_key_is_written_in_the_source():
    for path in tracked_python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert not literal_secret_keys(tree), (path.relative_to(ROOT), literal_secret_keys(tree))
        strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
        assert not FORMER_KEYS & {hashlib.sha256(s.encode()).hexdigest() for s in strings}, path.relative_to(ROOT)


def test_the_former_key_hashes_are_those_of_real_strings():
    # the check above would pass vacuously if FORMER_KEYS held wrong digests: the old settings
    # module is in the history; when it is at hand, its keys must hash to these values
    strings = []
    for path in ("shipbridge/settings.py", "bench/import_feed.py"):
        try:
            old = subprocess.run(["git", "show", f"33d87df:{path}"], cwd=ROOT, capture_output=True, text=True)
        except OSError:
            old = None
        if old is None or old.returncode != 0:
            pytest.skip("the history is not at hand (a shallow clone or no git)")
        strings += [n.value for n in ast.walk(ast.parse(old.stdout))
                    if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert FORMER_KEYS <= {hashlib.sha256(s.encode()).hexdigest() for s in strings}


# --- the embedded run's own keys ---------------------------------------------------------------

def test_embedded_keys_are_made_once_private_and_reused(tmp_path):
    old_umask = os.umask(0)  # even a careless umask gets a private file
    try:
        secret = keys.embedded_secret_key(tmp_path)
        fernet_keys = keys.embedded_encryption_keys(tmp_path)
    finally:
        os.umask(old_umask)
    for name in (keys.SECRET_KEY_FILE, keys.ENCRYPTION_KEYS_FILE):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    assert len(secret) >= 50 and len(set(secret)) >= 5
    assert len(fernet_keys) == 1 and Fernet(fernet_keys[0].encode())
    # a second start reads the same keys; a file made readable by others is made private again
    (tmp_path / keys.SECRET_KEY_FILE).chmod(0o644)
    assert keys.embedded_secret_key(tmp_path) == secret
    assert keys.embedded_encryption_keys(tmp_path) == fernet_keys
    assert stat.S_IMODE((tmp_path / keys.SECRET_KEY_FILE).stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # another var/ gets other keys
    assert keys.embedded_secret_key(tmp_path / "other") != secret


def test_embedded_encryption_keys_rotate_like_the_environments(tmp_path):
    old = keys.embedded_encryption_keys(tmp_path)[0]
    new = keys.new_fernet_key()
    (tmp_path / keys.ENCRYPTION_KEYS_FILE).write_text(f"{new}\n{old}\n")
    assert keys.embedded_encryption_keys(tmp_path) == [new, old]


def test_the_embedded_settings_use_the_var_keys_and_the_environment_wins(tmp_path):
    show = "from django.conf import settings as s; print(s.SECRET_KEY); print(','.join(s.SHIPBRIDGE_ENCRYPTION_KEYS))"
    first = manage("shell", "-v", "0", "-c", show, env=clean_env(tmp_path, SHIPBRIDGE_EMBEDDED="1"))
    assert first.returncode == 0, first.stderr
    secret, fernet = first.stdout.split()
    assert secret == (tmp_path / "secret_key").read_text().strip()
    assert fernet == (tmp_path / "encryption_keys").read_text().strip()
    again = manage("shell", "-v", "0", "-c", show, env=clean_env(tmp_path, SHIPBRIDGE_EMBEDDED="1"))
    assert again.stdout.split() == [secret, fernet]
    mine = keys.new_secret_key()
    given = manage("shell", "-v", "0", "-c", show, env=clean_env(tmp_path, SHIPBRIDGE_EMBEDDED="1", SECRET_KEY=mine))
    assert given.stdout.split() == [mine, fernet]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_embedded_web_server_runs_with_debug_off(tmp_path):
    # What scripts/run does, minus the sandboxes and Celery: first start makes the keys and the
    # admin login; the web server (DEBUG off) serves the admin's collected static files through
    # WhiteNoise, and the printed login logs in.
    env = clean_env(tmp_path, SHIPBRIDGE_EMBEDDED="1")
    assert manage("migrate", "--noinput", "-v", "0", env=env, timeout=300).returncode == 0
    assert manage("collectstatic", "--noinput", "-v", "0", env=env, timeout=300).returncode == 0
    setup = manage("demo_setup", "--qbc-port", "1", "--acumatica-port", "2", env=env)
    assert setup.returncode == 0, setup.stderr
    password = (tmp_path / "demo-admin-password.txt").read_text().strip()
    assert f"admin / {password}" in setup.stdout
    secret_before = (tmp_path / "secret_key").read_text()
    port = free_port()
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                login_page = requests.get(f"{base}/admin/login/", timeout=5)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.1)
        else:
            pytest.fail("the web server did not start")
        assert login_page.status_code == 200
        css = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', login_page.text)
        assert css, "the login page links the collected, content-hashed stylesheet"
        assert requests.get(base + css.group(1), timeout=5).status_code == 200
        assert "Traceback" not in requests.get(f"{base}/no-such-page/", timeout=5).text  # DEBUG is off
        session = requests.Session()
        session.get(f"{base}/admin/login/", timeout=5)
        reply = session.post(f"{base}/admin/login/?next=/admin/", timeout=10, data={
            "username": "admin", "password": password, "next": "/admin/",
            "csrfmiddlewaretoken": session.cookies["csrftoken"]}, headers={"Referer": f"{base}/admin/login/"})
        assert reply.status_code == 200 and reply.url == f"{base}/admin/" and "Log out" in reply.text
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert (tmp_path / "secret_key").read_text() == secret_before  # the same keys at every start
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


# --- production hardening ----------------------------------------------------------------------

def test_https_settings_pass_the_deploy_check(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path, SHIPBRIDGE_HTTPS="true"))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    shown = manage("shell", "-v", "0", "-c", "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER, "
                   "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, "
                   "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_AGE, "
                   "s.SESSION_EXPIRE_AT_BROWSER_CLOSE, s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)",
                   env=production_env(tmp_path, SHIPBRIDGE_HTTPS="true", SHIPBRIDGE_SESSION_HOURS="8",
                                      SHIPBRIDGE_SESSION_EXPIRE_AT_BROWSER_CLOSE="true", AXES_FAILURE_LIMIT="5",
                                      AXES_COOLOFF_MINUTES="15"))
    assert shown.stdout.strip() == ("('HTTP_X_FORWARDED_PROTO', 'https') 31536000 True True True True True 28800 "
                                    "True 5 0:15:00"), shown.stderr


def test_without_https_the_deploy_check_says_what_is_missing(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


# --- login throttling --------------------------------------------------------------------------

def login(client, username, password, **extra):
    return client.post(reverse("admin:login"), {"username": username, "password": password, "next": "/admin/"},
                       **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def staff(db, fast_passwords):
    return UserFactory(username="ada", is_superuser=True)


@pytest.mark.django_db
def test_wrong_passwords_lock_the_username_out_from_that_address(staff, settings):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 10
    client = Client()
    for _ in range(limit - 1):
        assert login(client, "ada", "wrong").status_code == 200  # the form again, "enter a correct…"
    assert login(client, "ada", "wrong").status_code == 429  # the last one allowed: now locked out
    refused = login(client, "ada", "pass-word-123")
    assert refused.status_code == 429 and "too many login attempts" in refused.content.decode()
    assert not logged_in(client)
    # the lockout is of this username from this address: ada elsewhere and others here log in
    elsewhere = Client()
    assert login(elsewhere, "ada", "pass-word-123", REMOTE_ADDR="192.0.2.7").status_code == 302
    assert logged_in(elsewhere)
    UserFactory(username="bob")
    other = Client()
    assert login(other, "bob", "pass-word-123").status_code == 302 and logged_in(other)


@pytest.mark.django_db
def test_fewer_wrong_passwords_than_the_limit_still_log_in(staff, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "ada", "wrong")
    assert login(client, "ada", "pass-word-123").status_code == 302 and logged_in(client)


@pytest.mark.django_db
def test_superusers_see_and_lift_lockouts_merchant_admins_never_see_them(staff, fast_passwords):
    from axes.models import AccessAttempt

    for _ in range(10):
        login(Client(), "ada", "wrong")
    attempts = reverse("admin:axes_accessattempt_changelist")
    root = Client()
    root.force_login(User.objects.create_superuser("root", "root@example.test", "pass-word-123"))
    assert "Access attempts" in root.get(reverse("admin:index")).content.decode()
    listing = root.get(attempts).content.decode()
    assert "ada" in listing and "Locked Out" in listing
    # a merchant admin, even one given every axes permission, sees none of it
    boss = UserFactory(merchant=MerchantFactory(), username="boss", groups=["merchant admin"])
    boss.user_permissions.add(*Permission.objects.filter(content_type__app_label="axes"))
    merchant_admin = Client()
    merchant_admin.force_login(boss)
    assert "Access attempts" not in merchant_admin.get(reverse("admin:index")).content.decode()
    attempt = AccessAttempt.objects.get(username="ada")
    assert "wrong" not in attempt.post_data  # the passwords tried are not kept
    for page in (attempts, reverse("admin:axes_accessattempt_change", args=[attempt.pk]),
                 reverse("admin:axes_accessattempt_delete", args=[attempt.pk]),
                 reverse("admin:axes_accesslog_changelist"), reverse("admin:axes_accessfailurelog_changelist")):
        assert merchant_admin.get(page).status_code == 403, page
    assert merchant_admin.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]),
                               {"post": "yes"}).status_code == 403
    assert root.get(reverse("admin:axes_accesslog_changelist")).status_code == 200
    # the superuser lifts the lockout by deleting the attempt; ada logs in again
    assert root.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}).status_code == 302
    client = Client()
    assert login(client, "ada", "pass-word-123").status_code == 302 and logged_in(client)


@pytest.mark.parametrize("proxies, forwarded, remote, expected", [
    (0, "203.0.113.9", "10.0.0.1", "10.0.0.1"),                       # no proxy: the header is the client's word
    (1, "203.0.113.9", "10.0.0.1", "203.0.113.9"),                    # nginx appended the client's address
    (1, "198.51.100.1, 203.0.113.9", "10.0.0.1", "203.0.113.9"),      # a forged first entry is ignored
    (2, "203.0.113.9, 10.0.0.2", "10.0.0.1", "203.0.113.9"),          # load balancer, then nginx
    (2, "203.0.113.9", "10.0.0.1", "10.0.0.1"),                       # fewer hops than proxies: not trusted
    (1, "not-an-address", "10.0.0.1", "10.0.0.1"),
    (1, "", "10.0.0.1", "10.0.0.1"),
])
def test_the_login_address_behind_trusted_proxies(settings, proxies, forwarded, remote, expected):
    settings.SHIPBRIDGE_TRUSTED_PROXIES = proxies
    request = RequestFactory().post("/admin/login/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == expected
