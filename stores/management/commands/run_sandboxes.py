"""Serve the sandbox stores of the embedded demo on loopback until interrupted."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.management.commands._util import ShipBridgeCommand

from stores.sandbox.acumatica import DEMO_SERVER_TIMEZONE, start_acumatica_sandbox
from stores.sandbox.customstore import SANDBOX_PATH, start_custom_store_sandbox
from stores.sandbox.server import serve_until_interrupted


class Command(ShipBridgeCommand):
    help = _("Run the sandbox QuickBooks Commerce feed and the sandbox Acumatica server (loopback only).")

    def add_arguments(self, parser):
        parser.add_argument("--qbc-port", type=int, default=8101)
        parser.add_argument("--acumatica-port", type=int, default=8102)
        parser.add_argument("--new-order-every", type=float, default=20.0, metavar="SECONDS",
                            help=_("how often each sandbox creates a new order (0: never)"))

    def handle(self, *args, **opts):
        every = opts["new_order_every"] or None
        qbc = start_custom_store_sandbox(port=opts["qbc_port"], preset="quickbooks_commerce", orders=60,
                                         live_every=every)
        acu = start_acumatica_sandbox(port=opts["acumatica_port"], release="2021 R2",
                                      server_timezone=DEMO_SERVER_TIMEZONE, shipments=40, live_every=every)
        self.stdout.write(gettext("sandbox QuickBooks Commerce feed: {url}").format(url=f"{qbc.url}{SANDBOX_PATH}"))
        self.stdout.write(gettext("sandbox Acumatica server: {url} (clock in {zone})").format(
            url=acu.url, zone=DEMO_SERVER_TIMEZONE))
        self.stdout.flush()
        serve_until_interrupted(qbc, acu)
