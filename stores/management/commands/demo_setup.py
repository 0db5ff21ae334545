"""Prepare the embedded demo: an admin login (printed) and two sandbox stores."""
import secrets
from pathlib import Path

from django.conf import settings

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.management.commands._util import ShipBridgeCommand

from stores.models import Store, User
from stores.sandbox import acumatica as acumatica_sandbox
from stores.sandbox import customstore as customstore_sandbox
from stores.services import store_create

DEMO_MERCHANT = "Demo Merchant"


class Command(ShipBridgeCommand):
    help = _("Create (or reset) the demo admin login and the sandbox stores of the embedded run.")

    def add_arguments(self, parser):
        parser.add_argument("--qbc-port", type=int, default=8101)
        parser.add_argument("--acumatica-port", type=int, default=8102)
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **opts):
        # The first run makes the login and keeps its password in var/ (readable by this user
        # only) so later runs print the same one; a password changed since is left alone.
        remembered = Path(settings.VAR_DIR) / "demo-admin-password.txt"
        user = User.objects.filter(username=opts["username"]).first()
        password = remembered.read_text().strip() if remembered.exists() else ""
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(opts["username"], "admin@localhost", password)
            remembered.write_text(password + "\n")
            remembered.chmod(0o600)

        qbc_url = f"http://127.0.0.1:{opts['qbc_port']}{customstore_sandbox.SANDBOX_PATH}"
        if not Store.objects.filter(merchant__name=DEMO_MERCHANT, name="Sandbox QuickBooks Commerce").exists():
            store_create(
                connector="quickbooks_commerce", name="Sandbox QuickBooks Commerce", merchant_name=DEMO_MERCHANT,
                settings={"url": qbc_url, "username": customstore_sandbox.SANDBOX_USERNAME,
                          "password": customstore_sandbox.SANDBOX_PASSWORD},
                refresh_interval_minutes=1, create_products=True, update_products=True,
            )
        acu_url = f"http://127.0.0.1:{opts['acumatica_port']}"
        if not Store.objects.filter(merchant__name=DEMO_MERCHANT, name="Sandbox Acumatica").exists():
            store_create(
                connector="acumatica", name="Sandbox Acumatica", merchant_name=DEMO_MERCHANT,
                timezone=acumatica_sandbox.DEMO_SERVER_TIMEZONE,
                settings={"base_url": acu_url, "username": acumatica_sandbox.SANDBOX_USERNAME,
                          "password": acumatica_sandbox.SANDBOX_PASSWORD, "company": acumatica_sandbox.SANDBOX_TENANT,
                          "branch": acumatica_sandbox.SANDBOX_BRANCH, "version": "2021 R2"},
                refresh_interval_minutes=1,
            )
        self.stdout.write("")
        if password and user.check_password(password):
            self.stdout.write("  " + gettext("Admin login:  {username} / {password}").format(
                username=opts["username"], password=password))
        else:
            command = f".venv/bin/python manage.py changepassword {opts['username']}"
            self.stdout.write("  " + gettext("Admin login:  {username} / (the password you set; forgot it? "
                                             "{command})").format(username=opts["username"], command=command))
        self.stdout.write("")
