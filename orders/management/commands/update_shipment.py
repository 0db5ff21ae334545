from django.core.management.base import CommandError
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.management.commands.ship_order import parse_ship_date
from orders.models import Shipment, StoreCorrection
from orders.selectors import shipment_as_dict
from orders.shipping import ShipmentUpdate, ShippingError, shipment_update
from stores.i18n import translated
from stores.management.commands._util import ShipBridgeCommand, json_line

# "store_correction" when the values given are the shipment's own: nothing was saved.
UNCHANGED = "unchanged"


def _corrected_as_dict(item, *, saved: bool) -> dict:
    return {
        "shipment": shipment_as_dict(item.shipment),
        "changes": [{"field": c.field, "old": c.old_value, "new": c.new_value} for c in item.changes],
        "store_correction": item.store.state if saved and item.changes else UNCHANGED,
        "store_correction_reason": item.store.message if saved and item.changes else None,
    }


def update_as_dict(result: ShipmentUpdate) -> dict:
    first, *package = result.corrected
    return {**_corrected_as_dict(first, saved=result.saved),
            "package": [_corrected_as_dict(item, saved=result.saved) for item in package]}


class Command(ShipBridgeCommand):
    help = format_lazy(_(
        "Correct a shipment's carrier, service, tracking number or ship date (with the other shipments of its "
        "combined package); every change is kept in its history. A store already notified is sent the correction "
        "when it can take it (unless --no-notify); otherwise a warning on stderr says, before saving, that it keeps "
        'the old values and why. The last line is JSON {{"shipment": {{…, "notification": {{"status", "error"}}}}, '
        '"changes": [{{"field", "old", "new"}}], "store_correction", "store_correction_reason", "package": […]}}; '
        "store_correction is one of {values} or {unchanged} (nothing to change). "
        "On an error nothing is changed and the exit status is non-zero; once saved it is 0."
    ), values=", ".join(StoreCorrection.values), unchanged=UNCHANGED)

    def add_arguments(self, parser):
        parser.add_argument("shipment_id")
        parser.add_argument("--carrier", default=None)
        parser.add_argument("--service", default=None, help=_('"" clears it'))
        parser.add_argument("--tracking", default=None, metavar="TRACKING_NUMBER", help=_('"" clears it'))
        parser.add_argument("--ship-date", default=None, metavar="YYYY-MM-DD")
        parser.add_argument("--no-notify", action="store_true",
                            help=_("do not send the correction to a store that was already notified"))

    def handle(self, *args, **opts):
        ship_date = parse_ship_date(opts["ship_date"]) if opts["ship_date"] is not None else None
        values = {"carrier": opts["carrier"], "service": opts["service"], "tracking_number": opts["tracking"],
                  "ship_date": ship_date}
        if all(value is None for value in values.values()):
            raise CommandError(gettext("nothing to correct: give --carrier, --service, --tracking or --ship-date"))
        try:
            shipment = Shipment.objects.get(pk=int(opts["shipment_id"]))
        except (ValueError, Shipment.DoesNotExist):
            raise CommandError(gettext("no shipment with id {id}").format(id=repr(opts["shipment_id"]))) from None
        arguments = {"shipment": shipment, "notify_store": False if opts["no_notify"] else None, **values}
        try:
            # Said before saving: a store that keeps the old values, and why.
            for item in shipment_update(dry_run=True, **arguments).corrected:
                if item.changes and item.store.state == StoreCorrection.NOT_SENT:
                    self.stderr.write(gettext("warning: shipment {id}: {message}").format(
                        id=item.shipment.pk, message=translated(item.store.message)))
            result = shipment_update(**arguments)
        except ShippingError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json_line(update_as_dict(result)))
