"""Platform: settings, migrations, admin pages, store creation and secrets."""
import io

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.contrib import admin

from stores.crypto import SecretDecryptionError
from stores.models import Store, StatusMapping, Merchant

pytestmark = pytest.mark.django_db

CUSTOM_SETTINGS = ["--set", "url=http://127.0.0.1:9/shop", "--set", "username=shop", "--set",
                   "password=Hunter2-very-secret"]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue()


def test_migrations_are_complete():
    # Given the models, when makemigrations checks, then nothing is missing.
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "No changes detected"


@pytest.mark.django_db(transaction=True)  # the scheduler closes stale connections, as beat does
def test_beat_installs_the_schedule_declared_in_settings():
    # Given a fresh database, when beat starts (its scheduler set up), then the entries of
    # CELERY_BEAT_SCHEDULE are installed with their expiry, and each names a registered task.
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from shipbridge.celery import app

    DatabaseScheduler(app=app)
    entries = {t.task: t for t in PeriodicTask.objects.filter(name__in=list(settings.CELERY_BEAT_SCHEDULE))}
    refresh, requeue = entries["orders.tasks.refresh_due_stores"], entries["orders.tasks.requeue_stale_notifications"]
    assert refresh.enabled and refresh.interval.every == 60 and refresh.interval.period == "seconds"
    assert refresh.expire_seconds == 55
    assert requeue.enabled and requeue.interval.every == 30 and requeue.expire_seconds == 25
    assert set(entries) <= set(app.tasks)


def test_add_store_saves_and_prints_id_last():
    out = run("add_store", "--connector", "custom_store", "--name", "Main shop", "--merchant", "Acme",
              "--timezone", "America/Chicago", *CUSTOM_SETTINGS, "--map-status", "paid=awaiting_shipment",
              "--map-status", "Paid=on_hold")
    store = Store.objects.get()
    assert out.strip().splitlines()[-1] == str(store.pk)
    assert store.merchant.name == "Acme" and store.timezone == "America/Chicago"
    assert store.settings == {"url": "http://127.0.0.1:9/shop", "username": "shop"}
    assert store.get_secrets() == {"password": "Hunter2-very-secret"}
    # mapping is case-sensitive: "paid" and "Paid" are two statuses
    assert store.status_map() == {"paid": "awaiting_shipment", "Paid": "on_hold"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--connector", "shopify", "--name", "X", *CUSTOM_SETTINGS], "unknown connector 'shopify'"),
        (["--connector", "custom_store", "--name", "X", "--set", "url=http://x/", "--set", "password=p"],
         "missing required setting 'username'"),
        (["--connector", "custom_store", "--name", "X", "--timezone", "Mars/Olympus", *CUSTOM_SETTINGS],
         "'Mars/Olympus' is not an IANA time zone"),
        (["--connector", "custom_store", "--name", "X", *CUSTOM_SETTINGS, "--map-status", "paid=ready"],
         "unknown internal status 'ready'"),
        (["--connector", "acumatica", "--name", "X", "--set", "base_url=http://x", "--set", "username=u",
          "--set", "password=p", "--set", "company=C", "--set", "branch=B", "--set", "version=2017 R1"],
         "setting 'version' must be one of"),
        (["--connector", "custom_store", "--name", "X", *CUSTOM_SETTINGS, "--set", "colour=blue"],
         "unknown setting 'colour'"),
    ],
)
def test_add_store_refuses_bad_input_and_saves_nothing(args, message):
    with pytest.raises(CommandError) as exc:
        run("add_store", *args)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)
    assert Store.objects.count() == 0 and StatusMapping.objects.count() == 0 and Merchant.objects.count() == 0


def test_add_store_exits_nonzero_from_the_shell(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "add_store", "--connector", "nope", "--name", "X"],
        capture_output=True, text=True, env={**__import__("os").environ, "SHIPBRIDGE_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "unknown connector 'nope'" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--name", "N" * 201], "store name: Ensure this value has at most 200 characters (it has 201)."),
        (["--name", "Shop", "--merchant", "M" * 201],
         "merchant name: Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_add_store_refuses_over_long_names_in_one_line(args, message):
    # Given a store or merchant name longer than the database column
    # When add_store is run, then it stops with one line naming the field, and saves nothing
    with pytest.raises(CommandError) as exc:
        run("add_store", "--connector", "custom_store", *args, *CUSTOM_SETTINGS)
    assert str(exc.value) == message
    assert Store.objects.count() == 0 and StatusMapping.objects.count() == 0 and Merchant.objects.count() == 0


def test_store_create_turns_every_field_error_into_one_line():
    from stores.services import StoreInputError, store_create

    settings = {"url": "http://127.0.0.1:9/shop", "username": "shop", "password": "pw-1234"}
    with pytest.raises(StoreInputError) as exc:
        store_create(connector="custom_store", name="Shop", settings=settings, brand_email="not an e-mail",
                     refresh_interval_minutes=0)
    assert "\n" not in str(exc.value)
    assert "store email: Enter a valid email address." in str(exc.value)
    assert "store refresh interval minutes:" in str(exc.value)
    assert Store.objects.count() == 0 and Merchant.objects.count() == 0


def test_add_store_with_an_over_long_name_from_the_shell_prints_one_line(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "add_store", "--connector", "custom_store", "--name", "N" * 201,
         *CUSTOM_SETTINGS],
        capture_output=True, text=True, env={**__import__("os").environ, "SHIPBRIDGE_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "CommandError: store name: Ensure this value has at most 200 characters (it has 201)."]


def test_test_store_with_a_malformed_encryption_key_fails_in_one_line(settings):
    # Given a store saved with a good key, then a malformed key in the environment
    run("add_store", "--connector", "custom_store", "--name", "S", *CUSTOM_SETTINGS)
    store = Store.objects.get()
    settings.SHIPBRIDGE_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    # When the connection is tested, then the test fails with the reason, recorded on the store
    with pytest.raises(CommandError) as exc:
        run("test_store", str(store.pk))
    assert "SHIPBRIDGE_ENCRYPTION_KEYS holds a value that is not a Fernet key" in str(exc.value)
    assert "\n" not in str(exc.value)
    store.refresh_from_db()
    assert store.last_connection_test_ok is False
    assert store.last_connection_test_message == str(exc.value)
    assert "Hunter2" not in store.last_connection_test_message


def test_add_store_with_a_malformed_encryption_key_fails_in_one_line(settings):
    settings.SHIPBRIDGE_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(CommandError) as exc:
        run("add_store", "--connector", "custom_store", "--name", "S", *CUSTOM_SETTINGS)
    assert "SHIPBRIDGE_ENCRYPTION_KEYS holds a value that is not a Fernet key" in str(exc.value)
    assert "\n" not in str(exc.value) and "Hunter2" not in str(exc.value)
    assert Store.objects.count() == 0 and Merchant.objects.count() == 0


def test_password_never_stored_in_clear():
    run("add_store", "--connector", "custom_store", "--name", "S", *CUSTOM_SETTINGS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM stores_store")
        rows = cursor.fetchall()
    dumped = repr(rows)
    assert "Hunter2-very-secret" not in dumped
    assert Store.objects.get().get_secrets()["password"] == "Hunter2-very-secret"
    if connection.vendor == "sqlite":
        connection.close()
        db_file = connection.settings_dict["NAME"]
        if db_file and not str(db_file).startswith(("file:", ":memory:")):
            with open(db_file, "rb") as fh:
                assert b"Hunter2-very-secret" not in fh.read()


def test_rotate_encryption_keys_with_two_keys(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SHIPBRIDGE_ENCRYPTION_KEYS = [old]
    run("add_store", "--connector", "custom_store", "--name", "S", *CUSTOM_SETTINGS)
    token_before = Store.objects.get().encrypted_secrets

    settings.SHIPBRIDGE_ENCRYPTION_KEYS = [new, old]
    assert "1 store" in run("rotate_encryption_keys")
    store = Store.objects.get()
    assert store.encrypted_secrets != token_before

    settings.SHIPBRIDGE_ENCRYPTION_KEYS = [new]  # the old key is dropped
    assert store.get_secrets() == {"password": "Hunter2-very-secret"}

    settings.SHIPBRIDGE_ENCRYPTION_KEYS = [old]  # the wrong key fails loudly
    with pytest.raises(SecretDecryptionError):
        Store.objects.get().get_secrets()


def test_rotate_with_wrong_keys_fails_cleanly(settings):
    settings.SHIPBRIDGE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    run("add_store", "--connector", "custom_store", "--name", "S", *CUSTOM_SETTINGS)
    token = Store.objects.get().encrypted_secrets
    settings.SHIPBRIDGE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted"):
        run("rotate_encryption_keys")
    assert Store.objects.get().encrypted_secrets == token


def test_every_admin_changelist_and_add_page_answers(admin_client_su):
    from tests.factories import OrderItemFactory

    OrderItemFactory()  # some rows, so changelists render real data
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client_su.get(url).status_code == 200, url
        add_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        response = admin_client_su.get(add_url)
        if model_admin.has_add_permission(response.wsgi_request):
            assert response.status_code == 200, add_url
        else:  # read-only logs (import runs, notifications) have no add page, on purpose
            assert response.status_code == 403, add_url


def unreachable_statements(source: str) -> list[int]:
    """Line numbers of statements that follow a return/raise/continue/break in the same block."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if not isinstance(block, list):
                continue
            for before, after in zip(block, block[1:]):
                if isinstance(before, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
                    found.append(after.lineno)
    return found


def test_no_unreachable_code_in_shipbridge():
    # Given every module of ShipBridge (migrations aside), then no statement is dead code after
    # a return or raise (such code rots: stores/admin.py once kept one calling an undefined name)
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    dead = {}
    for package in ("shipbridge", "stores", "orders"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            lines = unreachable_statements(path.read_text(encoding="utf-8"))
            if lines:
                dead[str(path.relative_to(root))] = lines
    assert dead == {}
    assert unreachable_statements("def f():\n    return 1\n    g()\n") == [3]  # the check itself works


@pytest.mark.parametrize("text, home", [
    ("not_requested", "orders/models.py"),
    ("not requested", None),
    ("the shipment was voided before the store was notified", "orders/notifying.py"),
    ("orders cannot be split: the store cannot receive shipment details for split orders", "orders/shipping.py"),
])
def test_one_place_per_fact(text, home):
    # Given a text ShipBridge says in several places, then it is written once, as a constant
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    places = []
    for package in ("shipbridge", "stores", "orders"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and text in node.value:
                    places.append(str(path.relative_to(root)))
    assert places == ([home] if home else [])
