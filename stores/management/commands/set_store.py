from django.core.management.base import CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.services import StoreInputError, store_update

from ._util import ShipBridgeCommand, get_store, parse_pairs


def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise CommandError(gettext("--active expects true or false, got {value}").format(value=repr(value)))
    return lowered == "true"


class Command(ShipBridgeCommand):
    help = _("Change a store: validates everything like add_store, changes nothing on any error, prints the "
             "store's id last. --set changes only the settings given (a secret given empty keeps the stored one).")

    def add_arguments(self, parser):
        parser.add_argument("store_id")
        parser.add_argument("--name", default=None)
        parser.add_argument("--timezone", default=None, help=_("IANA zone of the store's server clock"))
        parser.add_argument("--set", action="append", dest="set_values", metavar="KEY=VALUE", default=[])
        parser.add_argument("--map-status", action="append", dest="statuses", metavar="STORE_STATUS=STATUS",
                            default=[])
        parser.add_argument("--unmap-status", action="append", dest="unmapped", metavar="STORE_STATUS", default=[])
        parser.add_argument("--active", default=None, metavar="true|false")

    def handle(self, *args, **opts):
        # the arguments' own form first (no database needed to refuse them), then the store
        active = parse_bool(opts["active"]) if opts["active"] is not None else None
        given = parse_pairs(opts["set_values"], "--set")
        mapped = parse_pairs(opts["statuses"], "--map-status")
        store = get_store(opts["store_id"])
        changes = {}
        if opts["name"] is not None:
            changes["name"] = opts["name"]
        if opts["timezone"] is not None:
            changes["timezone"] = opts["timezone"]
        if active is not None:
            changes["active"] = active
        if given:
            changes["settings"] = {**store.settings, **given}
        if mapped or opts["unmapped"]:
            mapping = {**store.status_map(), **mapped}
            for store_status in opts["unmapped"]:
                if store_status not in mapping:
                    raise CommandError(gettext("--unmap-status: store status {status} is not mapped").format(
                        status=repr(store_status)))
                del mapping[store_status]
            changes["status_mapping"] = mapping
        try:
            store = store_update(store=store, **changes)
        except StoreInputError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(store.pk))
