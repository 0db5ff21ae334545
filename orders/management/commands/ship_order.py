import datetime as dt

from django.core.management.base import CommandError
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.emails import shipment_email_deliver
from orders.models import NOTIFICATION_NOT_REQUESTED, Order
from orders.notifying import notification_deliver_now
from orders.shipping import ShippingError, shipment_create
from stores.management.commands._util import ShipBridgeCommand, get_store, json_line


def parse_ship_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(gettext("--ship-date expects YYYY-MM-DD, got {value}").format(value=repr(value))) from None


class Command(ShipBridgeCommand):
    help = format_lazy(_(
        "Ship a whole order. The store is notified by the worker, or with --wait here (retries "
        'included). The last line is JSON {{"shipment": id, "notification": {{"status", "error"}}}}; '
        "status is {unrequested} with --no-notify or when the store's setting says "
        "not to notify it. On an error nothing is saved and the exit status is non-zero; once the "
        "shipment is saved the exit status is 0, whatever the store answered (the JSON says it), also "
        "when the task queue cannot be reached (the notification and the customer e-mail stay pending "
        "and are delivered by the stale sweep once it is back)."
    ), unrequested=NOTIFICATION_NOT_REQUESTED)

    def add_arguments(self, parser):
        parser.add_argument("store_id")
        parser.add_argument("order_number")
        parser.add_argument("--carrier", required=True)
        parser.add_argument("--service", default="")
        parser.add_argument("--tracking", default="", metavar="TRACKING_NUMBER")
        parser.add_argument("--ship-date", default=None, metavar="YYYY-MM-DD",
                            help=_("default: today in the store's time zone"))
        parser.add_argument("--no-notify", action="store_true", help=_('"do not notify the store"'))
        parser.add_argument("--wait", action="store_true",
                            help=_("deliver the store notification (retries included) and the customer e-mail "
                                   "here, and report the notification's outcome"))

    def handle(self, *args, **opts):
        ship_date = parse_ship_date(opts["ship_date"]) if opts["ship_date"] else None
        store = get_store(opts["store_id"])
        number = opts["order_number"].strip()
        matches = list(Order.objects.filter(store=store, order_number=number).order_by("pk")[:3])
        if not matches:
            raise CommandError(gettext("store {id} ({name}) has no order number {number}").format(
                id=store.pk, name=store.name, number=repr(number)))
        if len(matches) > 1:
            ids = ", ".join(o.external_id for o in matches)
            raise CommandError(
                gettext("order number {number} matches several orders of store {id} (external ids {ids}); ship it "
                        "from the admin").format(number=repr(number), id=store.pk, ids=ids)
            )
        try:
            shipment = shipment_create(
                order=matches[0], carrier=opts["carrier"], service=opts["service"], tracking_number=opts["tracking"],
                ship_date=ship_date, queue_notification=not opts["wait"],
                # without --no-notify, the store's own setting ("notify the store") decides
                notify_store=False if opts["no_notify"] else None,
            )
        except ShippingError as exc:
            raise CommandError(str(exc)) from None
        notification = {"status": NOTIFICATION_NOT_REQUESTED, "error": None}
        if shipment.notify_store:
            state = shipment.notification
            if opts["wait"]:
                state = notification_deliver_now(notification_id=state.pk)
            notification = {"status": state.status, "error": state.error or None}
        if opts["wait"]:
            shipment_email_deliver(shipment_id=shipment.pk)
        self.stdout.write(json_line({"shipment": shipment.pk, "notification": notification}))
