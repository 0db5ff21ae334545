from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from stores.models import Merchant, OrderStatus, Store


class Order(models.Model):
    merchant_lookup = "store__merchant_id"

    # Not indexed alone: the unique (store, external_id) and the (store, status, order date) indexes
    # lead with it. Every index costs each imported order a write.
    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="orders",
                              db_index=False)
    external_id = models.CharField(_("external id"), max_length=100)
    order_number = models.CharField(_("order number"), max_length=100)  # indexed in Meta (equality only)
    order_date = models.DateTimeField(_("order date"), db_index=True)
    modified_at = models.DateTimeField(_("modified at"))
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices)  # indexed in Meta
    store_status = models.CharField(_("store status"), max_length=100)
    ship_date = models.DateField(_("ship date"), null=True, blank=True, help_text=_("The store's planned ship date."))

    ship_to_name = models.CharField(_("ship to name"), max_length=200, blank=True, default="")
    ship_to_company = models.CharField(_("ship to company"), max_length=200, blank=True, default="")
    ship_to_street1 = models.CharField(_("ship to street1"), max_length=200, blank=True, default="")
    ship_to_street2 = models.CharField(_("ship to street2"), max_length=200, blank=True, default="")
    ship_to_street3 = models.CharField(_("ship to street3"), max_length=200, blank=True, default="")
    ship_to_city = models.CharField(_("ship to city"), max_length=100, blank=True, default="")
    ship_to_state = models.CharField(_("ship to state"), max_length=100, blank=True, default="")
    ship_to_postal_code = models.CharField(_("ship to postal code"), max_length=30, blank=True, default="")
    ship_to_country = models.CharField(_("ship to country"), max_length=2, blank=True, default="")
    ship_to_phone = models.CharField(_("ship to phone"), max_length=50, blank=True, default="")

    bill_to_name = models.CharField(_("bill to name"), max_length=200, blank=True, default="")
    bill_to_company = models.CharField(_("bill to company"), max_length=200, blank=True, default="")
    bill_to_phone = models.CharField(_("bill to phone"), max_length=50, blank=True, default="")
    bill_to_email = models.CharField(_("bill to email"), max_length=254, blank=True, default="")

    customer_code = models.CharField(_("customer code"), max_length=200, blank=True, default="")
    customer_email = models.CharField(_("customer email"), max_length=254, blank=True, default="")
    currency = models.CharField(_("currency"), max_length=3, blank=True, default="")
    order_total = models.DecimalField(_("order total"), max_digits=12, decimal_places=2, null=True, blank=True)
    tax_amount = models.DecimalField(_("tax amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    shipping_amount = models.DecimalField(_("shipping amount"), max_digits=12, decimal_places=2, null=True, blank=True)
    requested_service = models.CharField(_("requested service"), max_length=200, blank=True, default="")
    payment_method = models.CharField(_("payment method"), max_length=100, blank=True, default="")
    customer_notes = models.TextField(_("customer notes"), blank=True, default="")
    internal_notes = models.TextField(_("internal notes"), blank=True, default="")
    gift = models.BooleanField(_("gift"), default=False)
    gift_message = models.TextField(_("gift message"), blank=True, default="")

    raw = models.JSONField(_("raw"), default=dict, blank=True, help_text=_("The store's payload for this order."))
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True, default="", editable=False)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-order_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_store_external_id"),
        ]
        indexes = [
            models.Index(fields=["store", "status", "-order_date"], name="order_store_status_date"),
            # The desk across stores: a status tab in date order, its first and last order, the
            # count of each status (read from this index alone).
            models.Index(fields=["status", "order_date"], name="order_status_date"),
            # Looked up by equality (a scan, a tracking file, ship_order) and by prefix (the API's
            # orderNumber): one index serving both on PostgreSQL whatever the collation (its
            # pattern operator class), instead of db_index's plain index and pattern twin.
            models.Index(fields=["order_number"], name="order_number", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return gettext("{number} ({store})").format(number=self.order_number, store=self.store)


class OrderItem(models.Model):
    merchant_lookup = "order__store__merchant_id"

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="items")
    line_item_id = models.CharField(_("line item id"), max_length=100, blank=True, default="")
    sku = models.CharField(_("sku"), max_length=200, blank=True, default="")  # searched by substring: no index
    name = models.CharField(_("name"), max_length=500, blank=True, default="")
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2, default=0)
    weight_grams = models.DecimalField(_("weight grams"), max_digits=12, decimal_places=3, null=True, blank=True)
    image_url = models.URLField(_("image url"), max_length=1000, blank=True, default="")
    location = models.CharField(_("bin location"), max_length=200, blank=True, default="")
    adjustment = models.BooleanField(_("adjustment"), default=False,
                                     help_text=_("A discount line, not a product to ship."))
    options = models.JSONField(_("options"), default=list, blank=True)

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku or self.name}"


class Product(models.Model):
    merchant_lookup = "merchant_id"

    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"),
        on_delete=models.PROTECT, related_name="products")
    sku = models.CharField(_("sku"), max_length=200)
    name = models.CharField(_("name"), max_length=500, blank=True, default="")
    weight_grams = models.DecimalField(_("weight grams"), max_digits=12, decimal_places=3, null=True, blank=True)
    image_url = models.URLField(_("image url"), max_length=1000, blank=True, default="")
    bin_location = models.CharField(_("bin location"), max_length=200, blank=True, default="")
    barcode = models.CharField(
        _("barcode / UPC"), max_length=64, blank=True, default="", db_index=True,
        help_text=_("The barcode printed on the product (UPC, EAN, GTIN…): scanning it at packing counts as its SKU."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["merchant", "sku"]
        constraints = [models.UniqueConstraint(fields=["merchant", "sku"], name="product_unique_sku_per_merchant")]

    def __str__(self) -> str:
        return self.sku


class ProductAlias(models.Model):
    """Another SKU (from some store) that means this product."""

    merchant_lookup = "product__merchant_id"

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="aliases")
    sku = models.CharField(_("sku"), max_length=200)
    store = models.ForeignKey(Store, verbose_name=_("store"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("product alias")
        verbose_name_plural = _("product aliases")
        constraints = [models.UniqueConstraint(fields=["product", "sku"], name="product_alias_unique")]

    def __str__(self) -> str:
        return f"{self.sku} → {self.product.sku}"


class CustomerEmailStatus(models.TextChoices):
    """The shipment e-mail to the buyer: queued in the shipment's transaction, sent by a task
    (a sweep sends the ones whose task was lost, e.g. the broker was down)."""

    NONE = "", _("Not asked for")
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")  # voided first, or no longer due


class Shipment(models.Model):
    merchant_lookup = "order__store__merchant_id"

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(_("carrier"), max_length=100)
    service = models.CharField(_("service"), max_length=100, blank=True, default="")
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True, default="")
    ship_date = models.DateField(_("ship date"))
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    notify_store = models.BooleanField(_("notify store"), default=True)
    notify_customer = models.BooleanField(_("notify customer"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"),
        null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("voided by"),
        null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Who voided the shipment (empty: not void, or voided by a command or task)."),
    )
    group_key = models.CharField(
        _("combined shipment"), max_length=32, blank=True, default="", db_index=True,
        help_text=_("Shipments of combined orders (one package, one tracking number) share this key."),
    )
    customer_email_status = models.CharField(
        _("customer e-mail"), max_length=10, blank=True, default=CustomerEmailStatus.NONE,
        choices=CustomerEmailStatus.choices,
    )
    customer_email_attempts = models.PositiveSmallIntegerField(_("customer e-mail attempts"), default=0,
                                                               editable=False)
    customer_email_error = models.TextField(_("customer e-mail error"), blank=True, default="", editable=False)
    customer_emailed_at = models.DateTimeField(_("customer e-mailed at"), null=True, blank=True, editable=False)
    # The delivery holding the e-mail, until then (a dead worker's claim expires; the sweep retries).
    customer_email_claimed_until = models.DateTimeField(_("customer e-mail claimed until"), null=True, blank=True,
                                                        editable=False)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer_email_status"], name="shipment_email_status",
                                condition=models.Q(customer_email_status="pending"))]

    def __str__(self) -> str:
        return gettext("Shipment {id} of {number}").format(id=self.pk, number=self.order.order_number)


class ShipmentItem(models.Model):
    merchant_lookup = "shipment__order__store__merchant_id"

    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"), on_delete=models.CASCADE, related_name="items")
    order_item = models.ForeignKey(OrderItem, verbose_name=_("order item"),
        on_delete=models.PROTECT, related_name="shipment_items")
    quantity = models.PositiveIntegerField(_("quantity"))

    def __str__(self) -> str:
        return f"{self.quantity} × {self.order_item.sku or self.order_item.name}"

    class Meta:
        verbose_name = _("shipment item")
        verbose_name_plural = _("shipment items")
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_item"], name="shipment_item_unique_line"),
        ]


class ImportTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("Schedule")
    USER = "user", _("Admin user")
    COMMAND = "command", _("Command")
    API = "api", _("API")


class ImportRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    merchant_lookup = "store__merchant_id"

    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.CASCADE, related_name="import_runs")
    trigger = models.CharField(_("trigger"), max_length=20, choices=ImportTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("triggered by"),
        null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=ImportRunStatus.choices,
                              default=ImportRunStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    window_start = models.DateTimeField(_("window start"), null=True, blank=True)
    window_end = models.DateTimeField(_("window end"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    error = models.TextField(_("error"), blank=True, default="")
    warning = models.TextField(
        _("warning"), blank=True, default="",
        help_text=_("Orders skipped for a reason the merchant can fix (an unmapped status, an incomplete address)."),
    )
    skip_reasons = models.JSONField(
        _("skip reasons"), default=list, blank=True,
        help_text=_("[{external_id, order_number, reason}] for the skipped orders, the first SHIPBRIDGE_SKIP_REASONS_KEPT."),
    )
    skip_reasons_omitted = models.PositiveIntegerField(
        _("skipped orders without a kept reason"), default=0, help_text=_("Skipped orders beyond those whose reason is kept (counted in 'skipped')."))

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return gettext("Import of {store} at {when}").format(
            store=self.store, when=date_format(timezone.localtime(self.started_at), "DATETIME_FORMAT"))

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
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


# The notification state of a shipment made with "do not notify the store": it has no
# StoreNotification row, so this is not one of the choices above (list_orders and ship_order
# print it; the admin shows it in words, NOTIFICATION_NOT_REQUESTED_LABEL).
NOTIFICATION_NOT_REQUESTED = "not_requested"
NOTIFICATION_NOT_REQUESTED_LABEL = _("store not notified")


class StoreNotification(models.Model):
    """The one notification of the store about one shipment."""

    merchant_lookup = "shipment__order__store__merchant_id"

    shipment = models.OneToOneField(Shipment, verbose_name=_("shipment"),
        on_delete=models.CASCADE, related_name="notification")
    status = models.CharField(_("status"), max_length=20, choices=NotificationStatus.choices,
                              default=NotificationStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True, default="", help_text=_("The store's answer, verbatim."))
    warning = models.TextField(_("warning"), blank=True, default="")
    advice = models.TextField(_("advice"), blank=True, default="")
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Delivery claim: the worker delivering this notification holds it until `claimed_until`,
    # so a duplicated task delivery never notifies the store twice.
    claim_token = models.CharField(_("claim token"), max_length=32, blank=True, default="", editable=False)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("store notification")
        verbose_name_plural = _("store notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_status_next")]

    def __str__(self) -> str:
        return gettext("Notification of shipment {id}: {status}").format(id=self.shipment_id,
                                                                          status=self.get_status_display())


class AttemptOutcome(models.TextChoices):
    """What one delivery attempt of a store notification came to."""

    IN_FLIGHT = "in_flight", _("In flight")  # written before the store is called
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    RETRY = "retry", _("Retry")  # a transient failure: tried again after a back-off
    SKIPPED = "skipped", _("Skipped")
    UNKNOWN = "unknown", _("Unknown")  # the store was called and the outcome was never recorded


class NotificationAttempt(models.Model):
    merchant_lookup = "notification__shipment__order__store__merchant_id"

    notification = models.ForeignKey(StoreNotification, verbose_name=_("notification"),
        on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("number"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=AttemptOutcome.choices)
    request_summary = models.TextField(_("request summary"), blank=True, default="")
    response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    message = models.TextField(_("message"), blank=True, default="", help_text=_("The store's answer, verbatim."))

    class Meta:
        verbose_name = _("notification attempt")
        verbose_name_plural = _("notification attempts")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "number"], name="notification_attempt_unique_number"),
        ]


class ShipmentField(models.TextChoices):
    """The details of a shipment that can be corrected after it was made."""

    CARRIER = "carrier", _("carrier")
    SERVICE = "service", _("service")
    TRACKING_NUMBER = "tracking_number", _("tracking number")
    SHIP_DATE = "ship_date", _("ship date")


class StoreCorrection(models.TextChoices):
    """What a correction of a shipment did for its store."""

    QUEUED = "queued", _("Sent to the store")  # the store was notified: its notification is queued again
    NOT_SENT = "not_sent", _("Not sent: the store keeps the old values")
    INCLUDED = "included", _("In the notification still to be sent")  # pending: it carries the new values
    LEFT_AS_IS = "left_as_is", _("Notification left as is")  # failed or skipped: a resend carries them
    NOT_REQUESTED = NOTIFICATION_NOT_REQUESTED, _("Store not notified")  # shipped with "do not notify the store"


class ShipmentChange(models.Model):
    """One corrected detail of a shipment: who, when, old → new, and what the store was told.
    Written in the transaction of the correction."""

    merchant_lookup = "shipment__order__store__merchant_id"

    shipment = models.ForeignKey(Shipment, verbose_name=_("shipment"),
        on_delete=models.CASCADE, related_name="changes")
    changed_at = models.DateTimeField(_("changed at"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"),
        null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Who corrected the shipment (empty: a command or a script)."),
    )
    field = models.CharField(_("field"), max_length=20, choices=ShipmentField.choices)
    old_value = models.CharField(_("old value"), max_length=100, blank=True, default="")
    new_value = models.CharField(_("new value"), max_length=100, blank=True, default="")
    store_correction = models.CharField(_("store"), max_length=20, choices=StoreCorrection.choices)
    store_note = models.TextField(_("what the store was told"), blank=True, default="")

    class Meta:
        verbose_name = _("shipment change")
        verbose_name_plural = _("shipment changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return gettext("{field} of shipment {id}: {old} → {new}").format(
            field=self.get_field_display(), id=self.shipment_id, old=repr(self.old_value), new=repr(self.new_value))


# --- the ShipStation-compatible API: keys and webhooks -----------------------------------------


class ApiKey(models.Model):
    """A key of the ShipStation-compatible API (/api/v1/), for one merchant: HTTP Basic with the
    key as user name and the secret as password. The secret is shown once, when the key is made,
    and only its SHA-256 is kept (it is 128 random bits: a slow hash adds nothing)."""

    merchant_lookup = "merchant_id"

    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE,
                                 related_name="api_keys")
    label = models.CharField(_("label"), max_length=100, blank=True, default="",
                             help_text=_("What uses this key (an ERP, a script...), for you to recognise it."))
    key = models.CharField(_("key"), max_length=64, unique=True, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("revoked by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["merchant__name", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label or gettext('API key')} ({self.key[:8]}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class WebhookEvent(models.TextChoices):
    """ShipStation's webhook events that ShipBridge sends."""

    ORDER_NOTIFY = "ORDER_NOTIFY", _("New or changed orders (ORDER_NOTIFY)")
    ITEM_ORDER_NOTIFY = "ITEM_ORDER_NOTIFY", _("New or changed orders, with their items (ITEM_ORDER_NOTIFY)")
    SHIP_NOTIFY = "SHIP_NOTIFY", _("Orders shipped (SHIP_NOTIFY)")
    ITEM_SHIP_NOTIFY = "ITEM_SHIP_NOTIFY", _("Items shipped (ITEM_SHIP_NOTIFY)")


class WebhookSubscription(models.Model):
    """Where to POST {"resource_url", "resource_type"} when `event` happens (for one store, or
    for every store of the merchant). Each delivery is signed with `secret` (HMAC-SHA256)."""

    merchant_lookup = "merchant_id"

    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE,
                                 related_name="webhooks")
    event = models.CharField(_("event"), max_length=30, choices=WebhookEvent.choices)
    target_url = models.URLField(_("target URL"), max_length=1000)
    store = models.ForeignKey(Store, verbose_name=_("store"), null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+", help_text=_("Only this store's orders (empty: every store)."))
    friendly_name = models.CharField(_("friendly name"), max_length=200, blank=True, default="")
    encrypted_secret = models.TextField(_("encrypted secret"), editable=False,
                                        help_text=_("The signing secret, encrypted."))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    api_key = models.ForeignKey(ApiKey, verbose_name=_("API key"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", editable=False,
                                help_text=_("The API key that subscribed (empty: made in the admin)."))

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["merchant__name", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.friendly_name or f"{self.event} → {self.target_url}"


class WebhookBatchKind(models.TextChoices):
    ORDERS = "orders", _("Orders")
    SHIPMENTS = "shipments", _("Shipments")


class WebhookBatch(models.Model):
    """What one event brought: the orders of an import run (ORDER_NOTIFY's importBatch) or the
    shipments made together (SHIP_NOTIFY's batchId). Its resource URL lists exactly these."""

    merchant_lookup = "merchant_id"

    merchant = models.ForeignKey(Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, verbose_name=_("store"), null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=WebhookBatchKind.choices)
    token = models.UUIDField(_("token"), unique=True, help_text=_("importBatch of an orders batch."))
    import_run = models.OneToOneField(ImportRun, verbose_name=_("import run"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="webhook_batch")
    orders = models.ManyToManyField(Order, verbose_name=_("orders"), blank=True, related_name="+")
    shipments = models.ManyToManyField(Shipment, verbose_name=_("shipments"), blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook batch")
        verbose_name_plural = _("webhook batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return gettext("{kind} batch {id}").format(kind=self.get_kind_display(), id=self.pk)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One webhook POST to one subscription, tried until it is answered 2xx (transient failures
    retried with back-off; each try a WebhookAttempt row)."""

    merchant_lookup = "subscription__merchant_id"

    subscription = models.ForeignKey(WebhookSubscription, verbose_name=_("webhook subscription"),
                                     on_delete=models.CASCADE, related_name="deliveries")
    batch = models.ForeignKey(WebhookBatch, verbose_name=_("batch"), on_delete=models.CASCADE,
                              related_name="deliveries")
    resource_type = models.CharField(_("resource type"), max_length=30, choices=WebhookEvent.choices)
    resource_url = models.CharField(_("resource URL"), max_length=1000)
    status = models.CharField(_("status"), max_length=20, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True, default="", help_text=_("Why the last try failed."))
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_status_next")]

    def __str__(self) -> str:
        return gettext("{event} to {url}: {status}").format(event=self.resource_type,
                                                            url=self.subscription.target_url,
                                                            status=self.get_status_display())


class WebhookAttempt(models.Model):
    """One try of a webhook delivery, with the target's answer."""

    merchant_lookup = "delivery__subscription__merchant_id"

    delivery = models.ForeignKey(WebhookDelivery, verbose_name=_("webhook delivery"), on_delete=models.CASCADE,
                                 related_name="attempt_log")
    number = models.PositiveIntegerField(_("number"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=AttemptOutcome.choices)
    response_code = models.PositiveIntegerField(_("response code"), null=True, blank=True)
    response_body = models.TextField(_("response body"), blank=True, default="",
                                     help_text=_("The target's answer (its start)."))
    message = models.TextField(_("message"), blank=True, default="")

    class Meta:
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique_number"),
        ]


class Heartbeat(models.Model):
    """When a periodic task last ran to its end on a worker (orders/heartbeats.py): beat's
    "Refresh due stores" tick writes its row, the readiness check (shipbridge/health.py) reads it.
    One row per task, overwritten: no history."""

    name = models.CharField(max_length=200, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
