from django.core.management.base import CommandError
from django.utils.translation import gettext_lazy as _

from stores.i18n import translated

from stores.services import store_test_connection

from ._util import ShipBridgeCommand, get_store


class Command(ShipBridgeCommand):
    help = _("Test a store's connection: exit 0 and one line 'ok' (details on stderr); else non-zero and the "
             "reason.")

    def add_arguments(self, parser):
        parser.add_argument("store_id")

    def handle(self, *args, **opts):
        store = get_store(opts["store_id"])
        ok, message = store_test_connection(store=store)
        if not ok:
            raise CommandError(translated(message))
        self.stderr.write(translated(message))  # the details, for a person
        self.stdout.write("ok")  # the contract: exactly one line "ok"
