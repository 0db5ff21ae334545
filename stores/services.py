"""Writes on merchants and stores. Keyword-only, atomic, validated before anything is saved."""
from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import models, transaction

from . import crypto
from .connectors.base import ConfigurationError
from .connectors.registry import UnknownConnector, get_connector_class
from .models import Merchant, OrderStatus, StatusMapping, Store, validate_timezone

DEFAULT_MERCHANT_NAME = "Default merchant"


class StoreInputError(ValueError):
    """Bad operator/admin input for a store; the message is one line naming the problem."""


def parse_status_mapping(pairs: dict[str, str]) -> dict[str, str]:
    """Validate {store status: internal status}; internal statuses are OrderStatus values."""
    valid = set(OrderStatus.values)
    cleaned = {}
    for store_status, status in pairs.items():
        if not store_status:
            raise StoreInputError("a status mapping needs a store status before '='")
        if status not in valid:
            raise StoreInputError(
                f"unknown internal status {status!r} (known: {', '.join(OrderStatus.values)})"
            )
        cleaned[store_status] = status
    return cleaned


def validation_message(exc: ValidationError, model: type[models.Model], prefix: str = "") -> str:
    """One line naming the field(s) a model's full_clean() refused, e.g.
    "store name: Ensure this value has at most 200 characters (it has 201)."."""
    if not hasattr(exc, "error_dict"):
        return " ".join(" ".join(exc.messages).split())
    parts = []
    for field, errors in exc.message_dict.items():
        text = " ".join(errors)
        if field == NON_FIELD_ERRORS:
            parts.append(text)
        else:
            try:
                label = str(model._meta.get_field(field).verbose_name)
            except FieldDoesNotExist:  # not a model field: its name will do
                label = field
            parts.append(f"{prefix}{label}: {text}")
    return " ".join("; ".join(parts).split())


def clean_connection_settings(connector: str, values: dict[str, str]) -> tuple[dict, dict]:
    """Validate settings for a connector; return (public settings, secrets)."""
    try:
        cls = get_connector_class(connector)
    except UnknownConnector as exc:
        raise StoreInputError(str(exc)) from None
    try:
        cleaned = cls.clean_settings(values)
    except ConfigurationError as exc:
        raise StoreInputError(str(exc)) from None
    secrets = {k: v for k, v in cleaned.items() if k in cls.secret_keys()}
    public = {k: v for k, v in cleaned.items() if k not in cls.secret_keys()}
    return public, secrets


def store_create(
    *,
    connector: str,
    name: str,
    merchant_name: str | None = None,
    timezone: str = "UTC",
    settings: dict[str, str],
    status_mapping: dict[str, str] | None = None,
    **options,
) -> Store:
    if not name.strip():
        raise StoreInputError("a store needs a name")
    public, secrets = clean_connection_settings(connector, settings)
    try:
        validate_timezone(timezone)
    except ValidationError as exc:
        raise StoreInputError(exc.messages[0]) from None
    cls = get_connector_class(connector)
    mapping = parse_status_mapping(
        status_mapping if status_mapping else dict(cls.default_status_mapping)
    )
    merchant_name = (merchant_name or "").strip() or DEFAULT_MERCHANT_NAME
    try:
        Merchant(name=merchant_name).clean_fields()
    except ValidationError as exc:
        raise StoreInputError(validation_message(exc, Merchant, prefix="merchant ")) from None
    try:  # the store's own fields, before anything is written (full_clean below adds the constraints)
        Store(connector=connector, name=name.strip(), timezone=timezone, settings=public, **options).clean_fields(
            exclude=["merchant"])
    except ValidationError as exc:
        raise StoreInputError(validation_message(exc, Store, prefix="store ")) from None
    with transaction.atomic():
        merchant, _ = Merchant.objects.get_or_create(name=merchant_name)
        if Store.objects.filter(merchant=merchant, name=name.strip()).exists():
            raise StoreInputError(f"merchant {merchant.name!r} already has a store named {name.strip()!r}")
        store = Store(merchant=merchant, connector=connector, name=name.strip(), timezone=timezone,
                      settings=public, **options)
        try:
            store.set_secrets(secrets)
        except ImproperlyConfigured as exc:  # SHIPBRIDGE_ENCRYPTION_KEYS empty or malformed
            raise StoreInputError(str(exc)) from None
        try:
            store.full_clean()
        except ValidationError as exc:  # rolls the new merchant back too
            raise StoreInputError(validation_message(exc, Store, prefix="store ")) from None
        store.save()
        status_mapping_replace(store=store, mapping=mapping)
    return store


def status_mapping_replace(*, store: Store, mapping: dict[str, str]) -> None:
    mapping = parse_status_mapping(mapping)
    with transaction.atomic():
        store.status_mappings.exclude(store_status__in=list(mapping)).delete()
        existing = {m.store_status: m for m in store.status_mappings.all()}
        to_update = []
        for store_status, status in mapping.items():
            row = existing.get(store_status)
            if row is None:
                existing[store_status] = StatusMapping(store=store, store_status=store_status, status=status)
            elif row.status != status:
                row.status = status
                to_update.append(row)
        StatusMapping.objects.bulk_create([m for m in existing.values() if m.pk is None])
        StatusMapping.objects.bulk_update(to_update, ["status"])


def secrets_rotate() -> int:
    """Re-encrypt every store's secrets with the first configured key. Returns stores rewritten."""
    count = 0
    with transaction.atomic():
        for store in Store.objects.select_for_update().exclude(encrypted_secrets="").only("pk", "encrypted_secrets"):
            store.encrypted_secrets = crypto.rotate_token(store.encrypted_secrets)
            store.save(update_fields=["encrypted_secrets"])
            count += 1
    return count


def store_test_connection(*, store: Store) -> tuple[bool, str]:
    """Ask the store's connector to check the connection; record and return (ok, message)."""
    from django.utils import timezone

    from .connectors.base import ConnectorError
    from .crypto import SecretDecryptionError

    try:
        message = store.build_connector().test_connection()
        ok = True
    except (ConnectorError, SecretDecryptionError, ImproperlyConfigured) as exc:
        # ImproperlyConfigured: SHIPBRIDGE_ENCRYPTION_KEYS is empty or malformed (the secrets
        # cannot be read) — a failed test saying so, not a traceback
        ok, message = False, str(exc)
    Store.objects.filter(pk=store.pk).update(
        last_connection_test_at=timezone.now(), last_connection_test_ok=ok, last_connection_test_message=message
    )
    store.last_connection_test_ok, store.last_connection_test_message = ok, message
    return ok, message
