import json

from django.core.management.base import CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.management.commands._util import ShipBridgeCommand

from orders.selectors import order_as_dict, order_list
from stores.models import OrderStatus, Store


class Command(ShipBridgeCommand):
    help = _("List imported orders as a JSON array (the shape is a contract; see the README).")

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, default=None, metavar="STORE_ID")
        parser.add_argument("--status", choices=OrderStatus.values, default=None)
        parser.add_argument("--json", action="store_true", required=True, help=_("JSON output (the only format)"))

    def handle(self, *args, **opts):
        orders = order_list(store_id=opts["store"], status=opts["status"])
        if opts["store"] is not None and not orders.exists():
            if not Store.objects.filter(pk=opts["store"]).exists():
                raise CommandError(gettext("no store with id {id}").format(id=opts["store"]))
        data = [order_as_dict(o) for o in orders.iterator(chunk_size=500)]
        self.stdout.write(json.dumps(data, ensure_ascii=False, indent=None))
