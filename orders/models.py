from django.conf import settings
from django.db import models

from stores.models import Merchant, OrderStatus, Store


class Order(models.Model):
    merchant_lookup = "store__merchant_id"

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=100)
    order_number = models.CharField(max_length=100, db_index=True)
    order_date = models.DateTimeField(db_index=True)
    modified_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=OrderStatus.choices, db_index=True)
    store_status = models.CharField(max_length=100)
    ship_date = models.DateField(null=True, blank=True, help_text="The store's planned ship date.")

    ship_to_name = models.CharField(max_length=200, blank=True, default="")
    ship_to_company = models.CharField(max_length=200, blank=True, default="")
    ship_to_street1 = models.CharField(max_length=200, blank=True, default="")
    ship_to_street2 = models.CharField(max_length=200, blank=True, default="")
    ship_to_street3 = models.CharField(max_length=200, blank=True, default="")
    ship_to_city = models.CharField(max_length=100, blank=True, default="")
    ship_to_state = models.CharField(max_length=100, blank=True, default="")
    ship_to_postal_code = models.CharField(max_length=30, blank=True, default="")
    ship_to_country = models.CharField(max_length=2, blank=True, default="")
    ship_to_phone = models.CharField(max_length=50, blank=True, default="")

    bill_to_name = models.CharField(max_length=200, blank=True, default="")
    bill_to_company = models.CharField(max_length=200, blank=True, default="")
    bill_to_phone = models.CharField(max_length=50, blank=True, default="")
    bill_to_email = models.CharField(max_length=254, blank=True, default="")

    customer_code = models.CharField(max_length=200, blank=True, default="")
    customer_email = models.CharField(max_length=254, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    order_total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    requested_service = models.CharField(max_length=200, blank=True, default="")
    payment_method = models.CharField(max_length=100, blank=True, default="")
    customer_notes = models.TextField(blank=True, default="")
    internal_notes = models.TextField(blank=True, default="")
    gift = models.BooleanField(default=False)
    gift_message = models.TextField(blank=True, default="")

    raw = models.JSONField(default=dict, blank=True, help_text="The store's payload for this order.")
    content_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_store_external_id"),
        ]
        indexes = [models.Index(fields=["store", "status", "-order_date"], name="order_store_status_date")]

    def __str__(self) -> str:
        return f"{self.order_number} ({self.store})"


class OrderItem(models.Model):
    merchant_lookup = "order__store__merchant_id"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    line_item_id = models.CharField(max_length=100, blank=True, default="")
    sku = models.CharField(max_length=200, blank=True, default="", db_index=True)
    name = models.CharField(max_length=500, blank=True, default="")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    weight_grams = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    image_url = models.URLField(max_length=1000, blank=True, default="")
    location = models.CharField("bin location", max_length=200, blank=True, default="")
    adjustment = models.BooleanField(default=False, help_text="A discount line, not a product to ship.")
    options = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku or self.name}"


class Product(models.Model):
    merchant_lookup = "merchant_id"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="products")
    sku = models.CharField(max_length=200)
    name = models.CharField(max_length=500, blank=True, default="")
    weight_grams = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    image_url = models.URLField(max_length=1000, blank=True, default="")
    bin_location = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["merchant", "sku"]
        constraints = [models.UniqueConstraint(fields=["merchant", "sku"], name="product_unique_sku_per_merchant")]

    def __str__(self) -> str:
        return self.sku


class ProductAlias(models.Model):
    """Another SKU (from some store) that means this product."""

    merchant_lookup = "product__merchant_id"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="aliases")
    sku = models.CharField(max_length=200)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name_plural = "product aliases"
        constraints = [models.UniqueConstraint(fields=["product", "sku"], name="product_alias_unique")]

    def __str__(self) -> str:
        return f"{self.sku} → {self.product.sku}"


class Shipment(models.Model):
    merchant_lookup = "order__store__merchant_id"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=100)
    service = models.CharField(max_length=100, blank=True, default="")
    tracking_number = models.CharField(max_length=100, blank=True, default="")
    ship_date = models.DateField()
    cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    notify_store = models.BooleanField(default=True)
    notify_customer = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who voided the shipment (empty: not void, or voided by a command or task).",
    )
    group_key = models.CharField(
        "combined shipment", max_length=32, blank=True, default="", db_index=True,
        help_text="Shipments of combined orders (one package, one tracking number) share this key.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Shipment {self.pk} of {self.order.order_number}"


class ShipmentItem(models.Model):
    merchant_lookup = "shipment__order__store__merchant_id"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, on_delete=models.PROTECT, related_name="shipment_items")
    quantity = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_item.sku or self.order_item.name}"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_item"], name="shipment_item_unique_line"),
        ]


class ImportTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    USER = "user", "Admin user"
    COMMAND = "command", "Command"


class ImportRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    merchant_lookup = "store__merchant_id"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="import_runs")
    trigger = models.CharField(max_length=20, choices=ImportTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=ImportRunStatus.choices, default=ImportRunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    warning = models.TextField(
        blank=True, default="",
        help_text="Orders skipped for a reason the merchant can fix (an unmapped status, an incomplete address).",
    )
    skip_reasons = models.JSONField(
        default=list, blank=True, help_text="[{external_id, order_number, reason}] for every skipped order."
    )

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Import of {self.store} at {self.started_at:%Y-%m-%d %H:%M}"

    def summary(self) -> dict:
        return {
            "status": self.status,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "error": self.error or None,
            "warning": self.warning or None,
        }


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


# The notification state of a shipment made with "do not notify the store": it has no
# StoreNotification row, so this is not one of the choices above (list_orders and ship_order
# print it; the admin shows it in words).
NOTIFICATION_NOT_REQUESTED = "not_requested"


class StoreNotification(models.Model):
    """The one notification of the store about one shipment."""

    merchant_lookup = "shipment__order__store__merchant_id"

    shipment = models.OneToOneField(Shipment, on_delete=models.CASCADE, related_name="notification")
    status = models.CharField(max_length=20, choices=NotificationStatus.choices, default=NotificationStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="", help_text="The store's answer, verbatim.")
    warning = models.TextField(blank=True, default="")
    advice = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Delivery claim: the worker delivering this notification holds it until `claimed_until`,
    # so a duplicated task delivery never notifies the store twice.
    claim_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_status_next")]

    def __str__(self) -> str:
        return f"Notification of shipment {self.shipment_id}: {self.status}"


class AttemptOutcome(models.TextChoices):
    """What one delivery attempt of a store notification came to."""

    IN_FLIGHT = "in_flight", "In flight"  # written before the store is called
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    RETRY = "retry", "Retry"  # a transient failure: tried again after a back-off
    SKIPPED = "skipped", "Skipped"
    UNKNOWN = "unknown", "Unknown"  # the store was called and the outcome was never recorded


class NotificationAttempt(models.Model):
    merchant_lookup = "notification__shipment__order__store__merchant_id"

    notification = models.ForeignKey(StoreNotification, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=AttemptOutcome.choices)
    request_summary = models.TextField(blank=True, default="")
    response_code = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True, default="", help_text="The store's answer, verbatim.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"], name="notification_attempt_unique_number"),
        ]


class ShipmentField(models.TextChoices):
    """The details of a shipment that can be corrected after it was made."""

    CARRIER = "carrier", "carrier"
    SERVICE = "service", "service"
    TRACKING_NUMBER = "tracking_number", "tracking number"
    SHIP_DATE = "ship_date", "ship date"


class StoreCorrection(models.TextChoices):
    """What a correction of a shipment did for its store."""

    QUEUED = "queued", "Sent to the store"  # the store was notified: its notification is queued again
    NOT_SENT = "not_sent", "Not sent: the store keeps the old values"
    INCLUDED = "included", "In the notification still to be sent"  # pending: it carries the new values
    LEFT_AS_IS = "left_as_is", "Notification left as is"  # failed or skipped: a resend carries them
    NOT_REQUESTED = NOTIFICATION_NOT_REQUESTED, "Store not notified"  # shipped with "do not notify the store"


class ShipmentChange(models.Model):
    """One corrected detail of a shipment: who, when, old → new, and what the store was told.
    Written in the transaction of the correction."""

    merchant_lookup = "shipment__order__store__merchant_id"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who corrected the shipment (empty: a command or a script).",
    )
    field = models.CharField(max_length=20, choices=ShipmentField.choices)
    old_value = models.CharField(max_length=100, blank=True, default="")
    new_value = models.CharField(max_length=100, blank=True, default="")
    store_correction = models.CharField("store", max_length=20, choices=StoreCorrection.choices)
    store_note = models.TextField("what the store was told", blank=True, default="")

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_field_display()} of shipment {self.shipment_id}: {self.old_value!r} → {self.new_value!r}"


class Heartbeat(models.Model):
    """When a periodic task last ran to its end on a worker (orders/heartbeats.py): beat's
    "Refresh due stores" tick writes its row, the readiness check (shipbridge/health.py) reads it.
    One row per task, overwritten: no history."""

    name = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
