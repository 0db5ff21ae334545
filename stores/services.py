"""Writes on merchants and stores. Keyword-only, atomic, validated before anything is saved."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

from django.conf import settings as django_settings

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.files.base import File
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone as django_timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from . import crypto
from .connectors.base import ConfigurationError, ConnectorError
from .connectors.registry import UnknownConnector, get_connector_class
from .i18n import Language
from .logos import LogoError, PreparedLogo, logo_prepare
from .models import Merchant, OrderStatus, StatusMapping, Store, User, validate_timezone

DEFAULT_MERCHANT_NAME = "Default merchant"  # a name kept in the database, not translated
EMPTY_MAPPING_MESSAGE = _("map at least one store status: with no mapping, no order is imported")
ADDRESS_CHANGED_MESSAGE = _("the store's address changed: enter its {secret} again "
                            "(stored secrets are never sent to a new address)")


class StoreInputError(ValueError):
    """Bad operator/admin input for a store. `str()` is one line naming the (first) problem,
    for commands; `errors` lists every problem found as (field, message), for forms.

    A field is a Store field name ("name", "timezone"...), "settings.<key>" for a connection
    setting, "status_mapping", or None (the store as a whole)."""

    def __init__(self, message: str, *, field: str | None = None,
                 errors: list[tuple[str | None, str]] | None = None):
        super().__init__(message)
        self.errors = errors or [(field, message)]
        self.field = self.errors[0][0]


class _Problems:
    """Collects the StoreInputErrors of independent checks, so a form shows them all at once;
    the first one found is the message a command prints."""

    def __init__(self):
        self.first: StoreInputError | None = None
        self.errors: list[tuple[str | None, str]] = []

    @contextmanager
    def check(self):
        try:
            yield
        except StoreInputError as exc:
            self.first = self.first or exc
            self.errors.extend(exc.errors)

    def fields(self) -> set[str]:
        return {field for field, _ in self.errors if field}

    def raise_any(self) -> None:
        if self.first is not None:
            raise StoreInputError(str(self.first), errors=self.errors)


# Store fields set through store_create / store_update besides name, time zone and connection.
STORE_OPTION_FIELDS = (
    "active", "refresh_interval_minutes", "notify_store", "notify_customer",
    "brand_company_name", "brand_logo", "brand_phone", "brand_email", "brand_website", "brand_return_address",
    "create_products", "update_products", "language",
)


def parse_status_mapping(pairs: dict[str, str]) -> dict[str, str]:
    """Validate {store status: internal status}; internal statuses are OrderStatus values."""
    valid = set(OrderStatus.values)
    cleaned = {}
    for store_status, status in pairs.items():
        if not store_status:
            raise StoreInputError(gettext("a status mapping needs a store status before '='"),
                                  field="status_mapping")
        if status not in valid:
            raise StoreInputError(
                gettext("unknown internal status {status} (known: {known})").format(
                    status=repr(status), known=", ".join(OrderStatus.values)),
                field="status_mapping",
            )
        cleaned[store_status] = status
    return cleaned


def validation_message(exc: ValidationError, model: type[models.Model], prefix: str = "{field}") -> str:
    """One line naming the field(s) a model's full_clean() refused, e.g.
    "store name: Ensure this value has at most 200 characters (it has 201).". `prefix` names
    a field from its label ("store {field}")."""
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
            parts.append(f"{prefix.format(field=label)}: {text}")
    return " ".join("; ".join(parts).split())


def _invalid(exc: ValidationError, model: type[models.Model], prefix: str) -> StoreInputError:
    """One StoreInputError for a model's refusal: the whole line as its message, one error per field."""
    if not hasattr(exc, "error_dict"):
        return StoreInputError(validation_message(exc, model, prefix=prefix))
    errors = [(None if field == NON_FIELD_ERRORS else field, validation_message(ValidationError({field: messages}),
                                                                              model, prefix=prefix))
              for field, messages in exc.error_dict.items()]
    return StoreInputError(validation_message(exc, model, prefix=prefix), errors=errors)


def _connector_class(connector: str):
    try:
        return get_connector_class(connector)
    except UnknownConnector as exc:
        raise StoreInputError(str(exc), field="connector") from None


# Every function below that holds a store's secrets (typed or decrypted) in a local variable is
# marked with sensitive_variables(): an error page or report never shows its variables, nor
# those of what it calls (the store page also makes Django's filter apply with DEBUG on).


@sensitive_variables()
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


@sensitive_variables()
def _stored_secrets(store: Store) -> dict:
    try:
        return store.get_secrets()
    except crypto.SecretDecryptionError:
        return {}  # the keys changed: secrets left blank must be entered again
    except ImproperlyConfigured as exc:  # SHIPBRIDGE_ENCRYPTION_KEYS empty or malformed
        raise StoreInputError(str(exc)) from None


@sensitive_variables()
def _with_stored_secrets(store: Store, settings: dict[str, str]) -> dict[str, str]:
    """`settings` with each secret left blank replaced by the stored one (secrets are
    write-only: a blank field keeps what is stored)."""
    values = dict(settings)
    blank = [key for key in store.connector_class.secret_keys() if not (values.get(key) or "")]
    stored = _stored_secrets(store) if blank else {}
    for key in blank:
        values[key] = stored.get(key, "")
    return values


@sensitive_variables()
def _secrets_for_address(store: Store, given: dict[str, str], public: dict, secrets: dict) -> dict:
    """The secrets of checked settings (`public`, `secrets`), bound to where they go: when the
    store's address moves to another scheme, host or port (its connector's `address()`), only
    the secrets `given` in this change are kept — a stored secret is never sent to an address
    it was not entered for — and a required one left blank is refused, naming its field."""
    cls = store.connector_class
    if cls.address(public) == cls.address(store.settings):
        return secrets
    kept = {key: value for key, value in secrets.items() if given.get(key)}
    for f in cls.settings_schema:
        if f.secret and f.required and f.key not in kept:
            raise StoreInputError(str(ADDRESS_CHANGED_MESSAGE).format(secret=str(f.label).lower()),
                                  field=f"settings.{f.key}")
    return kept


def _check_timezone(timezone: str) -> None:
    try:
        validate_timezone(timezone)
    except ValidationError as exc:
        raise StoreInputError(exc.messages[0], field="timezone") from None


def _apply_options(store: Store, options: dict, problems: _Problems) -> None:
    unknown = sorted(set(options) - set(STORE_OPTION_FIELDS))
    if unknown:
        raise TypeError(f"not a store option: {', '.join(unknown)}")
    for name, value in options.items():
        field = Store._meta.get_field(name)
        if name == "brand_logo" and isinstance(value, File) and not isinstance(value, FieldFile):
            with problems.check():  # a new logo: kept only once checked and re-encoded
                field.save_form_data(store, _logo(value))
            continue
        # the model field's own form-data rule: a cleared file becomes "", an unchanged one stays
        field.save_form_data(store, value)


def _logo(upload: File) -> PreparedLogo:
    """A new logo checked, re-encoded and named by its format (stores/logos.py, the one rule)."""
    try:
        return logo_prepare(upload)
    except LogoError as exc:
        raise StoreInputError(str(exc), field="brand_logo") from None


def _check_store(store: Store, problems: _Problems, *, merchant_name: str = "") -> None:
    """The store's own fields (but those already found wrong), then its name among its
    merchant's stores (the merchant's, or the one `merchant_name` names when it has none yet)."""
    with problems.check():
        try:  # before anything is written (full_clean adds the constraints when saving)
            store.clean_fields(exclude=["merchant", *problems.fields()])
        except ValidationError as exc:
            raise _invalid(exc, Store, gettext("store {field}")) from None
    if "name" in problems.fields():
        return
    same_name = Store.objects.filter(name=store.name).exclude(pk=store.pk)
    if store.merchant_id is not None:
        same_name, merchant_name = same_name.filter(merchant_id=store.merchant_id), store.merchant.name
    else:
        same_name = same_name.filter(merchant__name=merchant_name)
    with problems.check():
        if same_name.exists():
            raise StoreInputError(gettext("merchant {merchant} already has a store named {name}").format(
                merchant=repr(merchant_name), name=repr(store.name)), field="name")


@sensitive_variables()
def _set_secrets(store: Store, secrets: dict) -> None:
    try:
        store.set_secrets(secrets)
    except ImproperlyConfigured as exc:  # SHIPBRIDGE_ENCRYPTION_KEYS empty or malformed
        raise StoreInputError(str(exc)) from None


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise StoreInputError(gettext("a store needs a name"), field="name")
    return name


def _check_mapping(mapping: dict[str, str], *, required: bool = True) -> dict[str, str]:
    """A valid mapping; an empty one only for a store type that imports nothing (not `required`)."""
    mapping = parse_status_mapping(mapping)
    if not mapping and required:
        raise StoreInputError(str(EMPTY_MAPPING_MESSAGE), field="status_mapping")
    return mapping


def _save(store: Store, *, mapping: dict[str, str] | None) -> Store:
    """Write a checked store (inside the caller's transaction): the row, then its mapping."""
    try:
        store.full_clean()
    except ValidationError as exc:  # rolls back everything the caller wrote
        raise _invalid(exc, Store, gettext("store {field}")) from None
    store.save()
    if mapping is not None:
        status_mapping_replace(store=store, mapping=mapping)
    return store


@sensitive_variables()
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
    neither: the default merchant). Everything is checked before anything is written; every
    problem found is in the StoreInputError raised. `status_mapping` None: the connector's
    usual mapping. With dry_run the checked, unsaved store is returned and nothing is written."""
    cls = _connector_class(connector)
    problems = _Problems()
    public = secrets = {}
    with problems.check():
        name = _check_name(name)
    with problems.check():
        public, secrets = clean_connection_settings(connector, settings)
    with problems.check():
        _check_timezone(timezone)
    mapping = None
    with problems.check():
        mapping = _check_mapping(cls.default_mapping(public) if status_mapping is None else status_mapping,
                                 required=cls.imports_orders)
    if merchant is None:
        merchant_name = (merchant_name or "").strip() or DEFAULT_MERCHANT_NAME
        with problems.check():
            try:
                Merchant(name=merchant_name).clean_fields()
            except ValidationError as exc:
                raise _invalid(exc, Merchant, gettext("merchant {field}")) from None
    store = Store(merchant=merchant, connector=connector, name=name, timezone=timezone, settings=public)
    _apply_options(store, options, problems)
    _check_store(store, problems, merchant_name=merchant_name or "")
    with problems.check():
        _set_secrets(store, secrets)
    problems.raise_any()
    if dry_run:
        return store
    with transaction.atomic():
        if store.merchant_id is None:
            store.merchant, _ = Merchant.objects.get_or_create(name=merchant_name)
        return _save(store, mapping=mapping)


@sensitive_variables()
def store_update(
    *,
    store: Store,
    merchant: Merchant | None = None,
    name: str | None = None,
    timezone: str | None = None,
    settings: dict[str, str] | None = None,
    status_mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    **options,
) -> Store:
    """Change a store: what is given changes, the rest stays. `settings` is the whole
    connection (a secret left blank keeps the stored one, unless the store's address changes:
    then the stored secrets are dropped and a required one must be given again, so a secret
    is never sent to an address it was not entered for); `status_mapping` replaces the
    mapping (it cannot be empty). Checked like store_create, all or nothing. With dry_run the
    checked, unsaved store is returned and nothing is written."""
    store = Store.objects.select_related("merchant").get(pk=store.pk)
    problems = _Problems()
    if merchant is not None:
        store.merchant = merchant
    if name is not None:
        store.name = name.strip()
        with problems.check():
            _check_name(name)
    if settings is not None:
        with problems.check():
            public, secrets = clean_connection_settings(store.connector, _with_stored_secrets(store, settings))
            secrets = _secrets_for_address(store, settings, public, secrets)
            store.settings = public
            _set_secrets(store, secrets)
    if timezone is not None:
        store.timezone = timezone
        with problems.check():
            _check_timezone(timezone)
    mapping = None
    if status_mapping is not None:
        with problems.check():
            mapping = _check_mapping(status_mapping, required=store.connector_class.imports_orders)
    _apply_options(store, options, problems)
    _check_store(store, problems)
    problems.raise_any()
    if dry_run:
        return store
    with transaction.atomic():
        return _save(store, mapping=mapping)


def status_mapping_replace(*, store: Store, mapping: dict[str, str]) -> None:
    """Replace the store's mapping. A change lets the next refresh bring in the orders earlier
    refreshes skipped as unmapped (it reaches back to them: `recover_from`)."""
    mapping = parse_status_mapping(mapping)
    with transaction.atomic():
        before = store.status_map()
        if before == mapping:
            return
        recover = {"recover_requested_at": django_timezone.now()}
        if store.connector_class.filters_statuses and set(mapping) - set(before) and store.import_cursor:
            # never asked for: as far back as a first refresh looks
            reach = django_timezone.now() - dt.timedelta(days=django_settings.SHIPBRIDGE_FIRST_IMPORT_DAYS)
            recover["recover_from"] = min(store.recover_from or reach, reach)
        Store.objects.filter(pk=store.pk).update(**recover)
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


@sensitive_variables()
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


def user_language_set(*, user, language: str) -> None:
    """Remember the interface language a user chose ("" : follow the browser again)."""
    if language not in {"", *Language.values}:
        raise ValueError(f"not a language of ShipBridge: {language!r}")
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
