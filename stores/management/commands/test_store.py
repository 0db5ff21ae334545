from django.core.management.base import BaseCommand, CommandError

from stores.services import store_test_connection

from ._util import get_store


class Command(BaseCommand):
    help = "Test a store's connection: exit 0 and one line 'ok' (details on stderr); else non-zero and the reason."

    def add_arguments(self, parser):
        parser.add_argument("store_id")

    def handle(self, *args, **opts):
        store = get_store(opts["store_id"])
        ok, message = store_test_connection(store=store)
        if not ok:
            raise CommandError(message)
        self.stderr.write(message)  # the details, for a person
        self.stdout.write("ok")  # the contract: exactly one line "ok"
