from django.core.management.base import CommandError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.management.commands._util import ShipBridgeCommand

from stores.i18n import translated

from stores.crypto import SecretDecryptionError
from stores.services import secrets_rotate


class Command(ShipBridgeCommand):
    help = _(
        "Re-encrypt every store secret with the first key of SHIPBRIDGE_ENCRYPTION_KEYS. "
        "Afterwards the other keys can be removed."
    )

    def handle(self, *args, **opts):
        try:
            count = secrets_rotate()
        except SecretDecryptionError as exc:
            raise CommandError(translated(str(exc))) from None
        self.stdout.write(gettext("re-encrypted the secrets of {count} store(s) with the first key").format(
            count=count))
