from django.core.management.base import CommandError
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.connectors.registry import CONNECTOR_NAMES, addable_connector_names
from stores.services import StoreInputError, store_create

from ._util import ShipBridgeCommand, parse_pairs


class Command(ShipBridgeCommand):
    help = _("Add a store: validates everything, saves (secrets encrypted), prints the new store's id last.")

    def add_arguments(self, parser):
        parser.add_argument("--connector", required=True,
                            help=format_lazy(_("one of: {names}"), names=", ".join(addable_connector_names())))
        parser.add_argument("--name", required=True)
        parser.add_argument("--merchant", default=None, help=_("merchant name (created when new)"))
        parser.add_argument("--timezone", default="UTC", help=_("IANA zone of the store's server clock"))
        parser.add_argument("--set", action="append", dest="set_values", metavar="KEY=VALUE", default=[])
        parser.add_argument("--map-status", action="append", dest="statuses", metavar="STORE_STATUS=STATUS",
                            default=[])

    def handle(self, *args, **opts):
        if opts["connector"] in CONNECTOR_NAMES and opts["connector"] not in addable_connector_names():
            raise CommandError(gettext("{connector} stores are not added by hand (known: {known})").format(
                connector=repr(opts["connector"]), known=", ".join(addable_connector_names())))
        try:
            store = store_create(
                connector=opts["connector"],
                name=opts["name"],
                merchant_name=opts["merchant"],
                timezone=opts["timezone"],
                settings=parse_pairs(opts["set_values"], "--set"),
                status_mapping=parse_pairs(opts["statuses"], "--map-status") or None,
            )
        except StoreInputError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(store.pk))
