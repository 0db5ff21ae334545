import datetime as dt
import sys

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.importing import StoreUnavailable, store_queue_refresh, store_refresh
from orders.models import ImportRun, ImportRunStatus, ImportTrigger

from stores.i18n import translated
from stores.management.commands._util import ShipBridgeCommand, get_store, json_line


def parse_since(value: str) -> dt.datetime:
    """ISO 8601 date or date-time; without an offset it is read as UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(gettext("--since expects an ISO 8601 date or date-time, got {value}").format(
            value=repr(value))) from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


class Command(ShipBridgeCommand):
    help = _(
        "Refresh a store (import its orders): queue the refresh, or with --wait run it here. The last line is a "
        'JSON summary {"status", "imported", "updated", "unchanged", "skipped", "error"}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("store_id")
        parser.add_argument("--wait", action="store_true", help=_("run the import here and report its outcome"))
        parser.add_argument("--since", default=None, metavar="ISO8601",
                            help=_("start the window here instead of the cursor (no offset = UTC)"))

    def handle(self, *args, **opts):
        store = get_store(opts["store_id"])
        since = parse_since(opts["since"]) if opts["since"] else None
        if not opts["wait"]:
            if since is not None and store.active:
                raise CommandError(gettext("--since needs --wait (queued imports always resume from the cursor)"))
            try:
                store_queue_refresh(store=store, trigger=ImportTrigger.COMMAND)
            except StoreUnavailable as exc:
                raise CommandError(translated(str(exc))) from None
            self.stdout.write(json_line({"status": "queued", "store": store.pk}))
            return
        try:
            run = store_refresh(store_id=store.pk, trigger=ImportTrigger.COMMAND, since=since)
        except StoreUnavailable as exc:
            summary = ImportRun(status=ImportRunStatus.FAILED, error=str(exc)).summary()
        else:
            summary = run.summary()
        self.stdout.write(json_line(summary))
        if summary["status"] != "succeeded":
            sys.stdout.flush()
            sys.exit(1)
