from datetime import timedelta
from zoneinfo import ZoneInfo, available_timezones

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from . import crypto
from .connectors.registry import CONNECTOR_NAMES, get_connector_class
from .i18n import DEFAULT_LANGUAGE, Language


class OrderStatus(models.TextChoices):
    """ShipBridge's internal order statuses (ShipStation's five)."""

    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    AWAITING_SHIPMENT = "awaiting_shipment", _("Awaiting shipment")
    ON_HOLD = "on_hold", _("On hold")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")


def validate_connector(value: str) -> None:
    """A connector of the registry (not model choices: a new store type needs no migration)."""
    if value not in CONNECTOR_NAMES:
        raise ValidationError(_("%(value)r is not a connector (known: %(known)s)."),
                              params={"value": value, "known": ", ".join(CONNECTOR_NAMES)}, code="connector")


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("%(value)r is not an IANA time zone name (e.g. UTC, America/Chicago)."),
                              params={"value": value}, code="timezone")


class Merchant(models.Model):
    # The lookup from a row to the merchant that owns it, declared on every merchant-owned
    # model: the admin's scoping (stores/scoping.py) reads it.
    merchant_lookup = "pk"

    name = models.CharField(_("name"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A ShipBridge login. Staff users belong to one merchant; platform superusers to none."""

    merchant_lookup = "merchant_id"

    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="users", verbose_name=_("merchant"),
        help_text=_("The merchant whose stores and orders this user works on. Empty for platform superusers."),
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, blank=True, default="",
        help_text=_("The language of ShipBridge's pages for this user (the switch in the header). Empty: the "
                    "browser's language."),
    )


class RefreshStatus(models.TextChoices):
    NEVER = "never", _("Never refreshed")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Store(models.Model):
    merchant_lookup = "merchant_id"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="stores",
                                 verbose_name=_("merchant"))
    connector = models.CharField(_("connector"), max_length=40, validators=[validate_connector])
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True,
                                 help_text=_("Inactive stores do not import; their orders stay."))
    timezone = models.CharField(
        _("timezone"), max_length=64, default="UTC", validators=[validate_timezone],
        help_text=_("The zone the store's server clock runs in. Timestamps are read and filters written in it."),
    )

    # Connection: non-secret values readable, secrets encrypted (never shown back).
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    encrypted_secrets = models.TextField(_("encrypted secrets"), blank=True, default="", editable=False)

    # Scheduling and state
    refresh_interval_minutes = models.PositiveIntegerField(_("refresh interval minutes"), default=15,
                                                           validators=[MinValueValidator(1)])
    next_refresh_at = models.DateTimeField(_("next refresh at"), null=True, blank=True, db_index=True)
    import_cursor = models.DateTimeField(_("import cursor"), null=True, blank=True,
                                         help_text=_("Imports resume from here (UTC)."))
    # Orders skipped for a reason the merchant can fix (an unmapped status, an incomplete
    # address): the oldest change time among them, and when a fix (a new mapping) asked for them
    # — the next refresh started after that reaches back there.
    recover_from = models.DateTimeField(
        _("recover from"), null=True, blank=True,
        help_text=_("The oldest change time of orders skipped for a fixable reason (UTC)."))
    recover_requested_at = models.DateTimeField(
        _("recover requested at"), null=True, blank=True,
        help_text=_("When the status mapping changed: the next refresh reaches back to recover_from."))
    last_refresh_at = models.DateTimeField(_("last refresh at"), null=True, blank=True)
    last_refresh_status = models.CharField(_("last refresh status"), max_length=20, choices=RefreshStatus.choices,
                                           default=RefreshStatus.NEVER)
    last_refresh_error = models.TextField(_("last refresh error"), blank=True, default="")
    last_refresh_warning = models.TextField(
        _("last refresh warning"), blank=True, default="",
        help_text=_("What the last successful refresh skipped that the merchant can fix."))
    lease_token = models.CharField(_("lease token"), max_length=64, blank=True, default="", editable=False)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True, editable=False)
    last_connection_test_at = models.DateTimeField(_("last connection test at"), null=True, blank=True)
    last_connection_test_ok = models.BooleanField(_("last connection test ok"), null=True, blank=True)
    last_connection_test_message = models.TextField(_("last connection test message"), blank=True, default="")

    # Store / customer notifications
    notify_store = models.BooleanField(
        _("notify the store when a shipment is created"), default=True,
    )
    notify_customer = models.BooleanField(_("email the customer on shipment"), default=False)

    # Branding
    brand_company_name = models.CharField(_("company name"), max_length=200, blank=True, default="")
    brand_logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    brand_phone = models.CharField(_("phone"), max_length=50, blank=True, default="")
    brand_email = models.EmailField(_("email"), blank=True, default="")
    brand_website = models.URLField(_("website"), blank=True, default="")
    brand_return_address = models.TextField(_("return address"), blank=True, default="")
    # The customers' language: their shipment e-mail and packing slips (not the clerk's interface).
    language = models.CharField(
        _("customer language"), max_length=8, choices=Language.choices, default=DEFAULT_LANGUAGE,
        help_text=_("The language of the shipment e-mail and the packing slips of this store's orders, whatever "
                    "the language of the person who ships them."),
    )

    # Product management
    create_products = models.BooleanField(_("create products from imported order lines"), default=False)
    update_products = models.BooleanField(_("update products from imported order lines"), default=False)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["merchant__name", "name"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="store_unique_name_per_merchant"),
        ]

    def __str__(self) -> str:
        return self.name

    # -- reads, no side effects --
    @property
    def connector_class(self):
        return get_connector_class(self.connector)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def get_secrets(self) -> dict:
        return crypto.decrypt_json(self.encrypted_secrets)

    @sensitive_variables()  # an error report never shows a store's secrets
    def set_secrets(self, secrets: dict) -> None:
        self.encrypted_secrets = crypto.encrypt_json({k: v for k, v in secrets.items() if v})

    @sensitive_variables()
    def build_connector(self):
        return self.connector_class(settings=dict(self.settings), secrets=self.get_secrets(), timezone=self.tz)

    def status_map(self) -> dict[str, str]:
        return {m.store_status: m.status for m in self.status_mappings.all()}

    @property
    def refresh_interval(self) -> timedelta:
        return timedelta(minutes=self.refresh_interval_minutes)


class StatusMapping(models.Model):
    """One store status string (case-sensitive) mapped onto an internal status."""

    merchant_lookup = "store__merchant_id"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="status_mappings",
                              verbose_name=_("store"))
    store_status = models.CharField(_("store status"), max_length=100, db_collation=None)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices)

    class Meta:
        ordering = ["store", "status", "store_status"]
        verbose_name = _("status mapping")
        verbose_name_plural = _("status mappings")
        constraints = [
            models.UniqueConstraint(fields=["store", "store_status"], name="status_mapping_unique_store_status"),
        ]

    def __str__(self) -> str:
        return f"{self.store_status} → {self.get_status_display()}"
