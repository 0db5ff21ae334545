from django.core.management.base import CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.apikeys import ApiKeyError, api_key_create
from stores.management.commands._util import ShipBridgeCommand, json_line
from stores.models import Merchant


class Command(ShipBridgeCommand):
    help = _("Make an API key of the ShipStation-compatible API for a merchant. The last line is JSON "
             '{"key": ..., "secret": ...}: the secret is shown this once (ShipBridge keeps only its digest).')

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True, help=_("the merchant's name (an existing merchant)"))
        parser.add_argument("--label", default="", help=_("what uses the key (an ERP, a script...)"))

    def handle(self, *args, **opts):
        merchant = Merchant.objects.filter(name=opts["merchant"]).first()
        if merchant is None:
            known = (", ".join(Merchant.objects.order_by("name").values_list("name", flat=True)[:20])
                     or gettext("none yet"))
            raise CommandError(gettext("no merchant named {name} (known: {known})").format(
                name=repr(opts["merchant"]), known=known))
        try:
            made = api_key_create(merchant=merchant, label=opts["label"])
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json_line({"key": made.key, "secret": made.secret}))
