"""API keys of the ShipStation-compatible API: made, revoked, and checked.

A key belongs to one merchant and sees only that merchant's stores, orders and shipments. Its
secret is shown once, when it is made (the admin's page after "Save", or `create_api_key`'s last
line), and kept only as a SHA-256 digest: 128 random bits need no slow hash, and checking one is
cheap enough for every request. A revoked key is refused from then on; its row stays (who made
it, when it was last used, who revoked it)."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from stores.models import Merchant

from .models import ApiKey
from .values import clean_text

# last_used_at is written at most this often per key (not one write per request)
LAST_USED_EVERY = dt.timedelta(minutes=1)


class ApiKeyError(ValueError):
    """An API key action refused; one line."""


@dataclass(frozen=True)
class NewApiKey:
    """A key just made, with its secret: the only time the secret exists outside the caller."""

    api_key: ApiKey
    secret: str

    @property
    def key(self) -> str:
        return self.api_key.key


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def api_key_create(*, merchant: Merchant, label: str = "", user=None) -> NewApiKey:
    """A new key for `merchant`. The secret is in the result only."""
    if not isinstance(merchant, Merchant) or merchant.pk is None:
        raise ApiKeyError(gettext("an API key needs a merchant"))
    label = clean_text(label, what=gettext("label"), max_length=ApiKey._meta.get_field("label").max_length, error=ApiKeyError)
    secret = secrets.token_hex(16)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            merchant=merchant, label=label, key=secrets.token_hex(16), secret_hash=_digest(secret),
            created_by=user if getattr(user, "pk", None) else None,
        )
    return NewApiKey(api_key=api_key, secret=secret)


def api_key_revoke(*, api_key: ApiKey, user=None) -> ApiKey:
    """Revoke a key: refused from now on (revoking a revoked key changes nothing)."""
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=user if getattr(user, "pk", None) else None)
        api_key.refresh_from_db()
    return api_key


def api_key_check(*, key: str, secret: str) -> ApiKey | None:
    """The active key `key` if `secret` is its secret, else None (an unknown key, a wrong secret
    and a revoked key are alike to the caller). Notes when it was last used (at most once a minute)."""
    if not key or not secret or len(key) > 64:
        return None
    api_key = ApiKey.objects.select_related("merchant").filter(key=key, revoked_at__isnull=True).first()
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _digest(secret)):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_EVERY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key
