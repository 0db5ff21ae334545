from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import Order
from orders.tracking import TrackingFileError, tracking_apply, tracking_file_read, tracking_plan
from stores.management.commands._util import ShipBridgeCommand, get_store, json_line


class Command(ShipBridgeCommand):
    help = _(
        "Ship the orders a tracking CSV names (order number, tracking number, carrier, service, ship date; the "
        "usual carrier-portal exports are read as they are). One JSON line per row "
        '{"line", "order_number", "store", "tracking_number", "carrier", "result", "shipment", "error"} '
        "(result: shipped, would_ship with --dry-run, already_shipped, unknown_order, ambiguous, invalid, refused), "
        'then {"shipped": n, "skipped": n, "errors": n}. A bad row never stops the good ones; a re-run ships '
        "nothing twice; a file that is not a CSV is one line on stderr, a non-zero exit and nothing shipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--store", metavar="STORE_ID", help=_("only this store's orders"))
        parser.add_argument("--no-notify", action="store_true", help=_('"do not notify the store" for every shipment'))
        parser.add_argument("--dry-run", action="store_true", help=_("say what each row would do; ship nothing"))

    def handle(self, *args, **opts):
        orders = Order.objects.all()
        if opts["store"] is not None:
            orders = orders.filter(store=get_store(opts["store"]))
        try:
            data = Path(opts["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(gettext("cannot read {file}: {error}").format(file=opts["file"],
                                                                            error=exc.strerror or exc)) from None
        try:
            rows = tracking_file_read(data)
        except TrackingFileError as exc:
            raise CommandError(gettext("{file}: {error}").format(file=opts["file"], error=exc)) from None
        summary = tracking_plan(rows=rows, orders=orders)
        if not opts["dry_run"]:
            summary = tracking_apply(plan=summary, notify_store=False if opts["no_notify"] else None)
        for row in summary.rows:
            self.stdout.write(json_line(row.as_dict(dry_run=opts["dry_run"])))
        self.stdout.write(json_line(summary.as_dict()))
