from django.core.management.base import BaseCommand, CommandError

from stores.crypto import SecretDecryptionError
from stores.services import secrets_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every store secret with the first key of SHIPBRIDGE_ENCRYPTION_KEYS. "
        "Afterwards the other keys can be removed."
    )

    def handle(self, *args, **opts):
        try:
            count = secrets_rotate()
        except SecretDecryptionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"re-encrypted the secrets of {count} store(s) with the first key")
