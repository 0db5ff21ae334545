from django.core.management.base import BaseCommand, CommandError

from stores.services import store_test_connection

from ._util import get_store


class Command(BaseCommand):
    help = "Test a store's connection: exit 0 and a one-line 'ok'; else non-zero and the reason."

    def add_arguments(self, parser):
        parser.add_argument("store_id")

    def handle(self, *args, **opts):
        store = get_store(opts["store_id"])
        ok, message = store_test_connection(store=store)
        if not ok:
            raise CommandError(message)
        self.stdout.write(message if message.startswith("ok") else f"ok: {message}")
