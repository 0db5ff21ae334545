"""Writes on merchants and stores. Keyword-only, atomic, validated before anything is saved."""
from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db import models, transaction
from django.utils import timezone as django_timezone

from . import crypto
from .connectors.base import ConfigurationError, ConnectorError
from .connectors.registry import UnknownConnector, get_connector_class
from .models import Merchant, OrderStatus, StatusMapping, Store, validate_timezone

DEFAULT_MERCHANT_NAME = "Default merchant"
EMPTY_MAPPING_MESSAGE = "map at least one store status: with no mapping, no order is imported"


class StoreInputError(ValueError):
    """Bad operator/admin input for a store; the message is one line naming the problem.

    `field` says where the problem is, for forms: a Store field name ("name", "timezone"...),
    "settings.<key>" for a connection setting, "status_mapping", or None."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


# Store fields set through store_create / store_update besides name, time zone and connection.
STORE_OPTION_FIELDS = (
    "active", "refresh_interval_minutes", "notify_store", "notify_customer",
    "brand_company_name", "brand_logo", "brand_phone", "brand_email", "brand_website", "brand_return_address",
    "create_products", "update_products",
)


def parse_status_mapping(pairs: dict[str, str]) -> dict[str, str]:
    """Validate {store status: internal status}; internal statuses are OrderStatus values."""
    valid = set(OrderStatus.values)
    cleaned = {}
    for store_status, status in pairs.items():
        if not store_status:
            raise StoreInputError("a status mapping needs a store status before '='", field="status_mapping")
        if status not in valid:
            raise StoreInputError(
                f"unknown internal status {status!r} (known: {', '.join(OrderStatus.values)})",
                field="status_mapping",
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


def _invalid(exc: ValidationError, model: type[models.Model], prefix: str) -> StoreInputError:
    fields = [f for f in getattr(exc, "error_dict", {}) if f != NON_FIELD_ERRORS]
    return StoreInputError(validation_message(exc, model, prefix=prefix),
                           field=fields[0] if len(fields) == 1 else None)


def _connector_class(connector: str):
    try:
        return get_connector_class(connector)
    except UnknownConnector as exc:
        raise StoreInputError(str(exc), field="connector") from None


def clean_connection_settings(connector: str, values: dict[str, str]) -> tuple[dict, dict]:
    """Validate settings for a connector; return (public settings, secrets)."""
    cls = _connector_class(connector)
    try:
        cleaned = cls.clean_settings(values)
    except ConfigurationError as exc:
        raise StoreInputError(str(exc), field=f"settings.{exc.field}" if exc.field else None) from None
    secrets = {k: v for k, v in cleaned.items() if k in cls.secret_keys()}
    public = {k: v for k, v in cleaned.items() if k not in cls.secret_keys()}
    return public, secrets


def _stored_secrets(store: Store) -> dict:
    if not store.pk:
        return {}
    try:
        return store.get_secrets()
    except (crypto.SecretDecryptionError, ImproperlyConfigured):
        return {}  # the keys changed: secrets left blank must be entered again


def _with_stored_secrets(store: Store, settings: dict[str, str]) -> dict[str, str]:
    """`settings` with each secret left blank replaced by the stored one (secrets are
    write-only: a blank field keeps what is stored)."""
    stored = _stored_secrets(store)
    values = dict(settings)
    for key in store.connector_class.secret_keys():
        if not (values.get(key) or ""):
            values[key] = stored.get(key, "")
    return values


def _check_timezone(timezone: str) -> None:
    try:
        validate_timezone(timezone)
    except ValidationError as exc:
        raise StoreInputError(exc.messages[0], field="timezone") from None


def _apply_options(store: Store, options: dict) -> None:
    unknown = sorted(set(options) - set(STORE_OPTION_FIELDS))
    if unknown:
        raise TypeError(f"not a store option: {', '.join(unknown)}")
    for name, value in options.items():
        # the model field's own form-data rule: a cleared file becomes "", an unchanged one stays
        Store._meta.get_field(name).save_form_data(store, value)


def _check_store(store: Store, *, merchant_name: str = "") -> None:
    """The store's own fields, then its name among its merchant's stores (the merchant's, or
    the one `merchant_name` names when the store has none yet)."""
    try:  # before anything is written (full_clean adds the constraints when saving)
        store.clean_fields(exclude=["merchant"])
    except ValidationError as exc:
        raise _invalid(exc, Store, "store ") from None
    same_name = Store.objects.filter(name=store.name).exclude(pk=store.pk)
    if store.merchant_id is not None:
        same_name, merchant_name = same_name.filter(merchant_id=store.merchant_id), store.merchant.name
    else:
        same_name = same_name.filter(merchant__name=merchant_name)
    if same_name.exists():
        raise StoreInputError(f"merchant {merchant_name!r} already has a store named {store.name!r}", field="name")


def _save(store: Store, *, secrets: dict | None, mapping: dict[str, str] | None) -> Store:
    """Write a checked store (inside the caller's transaction): secrets, row, mapping."""
    if secrets is not None:
        try:
            store.set_secrets(secrets)
        except ImproperlyConfigured as exc:  # SHIPBRIDGE_ENCRYPTION_KEYS empty or malformed
            raise StoreInputError(str(exc)) from None
    try:
        store.full_clean()
    except ValidationError as exc:  # rolls back everything the caller wrote
        raise _invalid(exc, Store, "store ") from None
    store.save()
    if mapping is not None:
        status_mapping_replace(store=store, mapping=mapping)
    return store


def store_create(
    *,
    connector: str,
    name: str,
    merchant: Merchant | None = None,
    merchant_name: str | None = None,
    timezone: str = "UTC",
    settings: dict[str, str],
    status_mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    **options,
) -> Store:
    """Add a store of `merchant` (or of the merchant named `merchant_name`, created when new;
    neither: the default merchant). Everything is validated before anything is written; the
    first problem raises StoreInputError. `status_mapping` empty: the connector's usual one.
    With dry_run the checked, unsaved store is returned and nothing is written."""
    name = name.strip()
    if not name:
        raise StoreInputError("a store needs a name", field="name")
    public, secrets = clean_connection_settings(connector, settings)
    _check_timezone(timezone)
    cls = get_connector_class(connector)
    mapping = parse_status_mapping(status_mapping if status_mapping else dict(cls.default_status_mapping))
    if merchant is None:
        merchant_name = (merchant_name or "").strip() or DEFAULT_MERCHANT_NAME
        try:
            Merchant(name=merchant_name).clean_fields()
        except ValidationError as exc:
            raise _invalid(exc, Merchant, "merchant ") from None
    store = Store(merchant=merchant, connector=connector, name=name, timezone=timezone, settings=public)
    _apply_options(store, options)
    _check_store(store, merchant_name=merchant_name or "")
    if dry_run:
        return store
    with transaction.atomic():
        if store.merchant_id is None:
            store.merchant, _ = Merchant.objects.get_or_create(name=merchant_name)
        return _save(store, secrets=secrets, mapping=mapping)


def store_update(
    *,
    store: Store,
    name: str | None = None,
    timezone: str | None = None,
    settings: dict[str, str] | None = None,
    status_mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    **options,
) -> Store:
    """Change a store: what is given changes, the rest stays. `settings` is the whole
    connection (a secret left blank keeps the stored one); `status_mapping` replaces the
    mapping (it cannot be empty). Validated like store_create, all or nothing. With dry_run the
    checked, unsaved store is returned and nothing is written."""
    store = Store.objects.select_related("merchant").get(pk=store.pk)
    if name is not None:
        store.name = name.strip()
        if not store.name:
            raise StoreInputError("a store needs a name", field="name")
    secrets = None
    if settings is not None:
        store.settings, secrets = clean_connection_settings(store.connector, _with_stored_secrets(store, settings))
    if timezone is not None:
        _check_timezone(timezone)
        store.timezone = timezone
    mapping = None
    if status_mapping is not None:
        mapping = parse_status_mapping(status_mapping)
        if not mapping:
            raise StoreInputError(EMPTY_MAPPING_MESSAGE, field="status_mapping")
    _apply_options(store, options)
    _check_store(store)
    if dry_run:
        return store
    with transaction.atomic():
        return _save(store, secrets=secrets, mapping=mapping)


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
    try:
        message = store.build_connector().test_connection()
        ok = True
    except (ConnectorError, crypto.SecretDecryptionError, ImproperlyConfigured) as exc:
        # ImproperlyConfigured: SHIPBRIDGE_ENCRYPTION_KEYS is empty or malformed (the secrets
        # cannot be read) — a failed test saying so, not a traceback
        ok, message = False, str(exc)
    Store.objects.filter(pk=store.pk).update(
        last_connection_test_at=django_timezone.now(), last_connection_test_ok=ok, last_connection_test_message=message
    )
    store.last_connection_test_ok, store.last_connection_test_message = ok, message
    return ok, message
