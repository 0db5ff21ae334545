"""Forms of the orders pages: the shipment's details, the order page's "Ship" form, the
shipment page's "Correct" form, the "Add order" page (an order entered by hand and its lines),
and a store's "Re-import from a date"."""
import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .carriers import OTHER, carrier_choices, carrier_name, is_listed
from .models import Order, OrderItem, Product
from .shipping import SHIP_DATE_MAX_FUTURE_DAYS


class CarrierField(forms.ChoiceField):
    """A carrier chosen from the list (the common carriers, then "Other")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Carrier"))
        super().__init__(choices=[("", "---------"), *carrier_choices()], **kwargs)


def carrier_initial(name: str) -> dict:
    """The initial values showing a shipment's carrier `name` (an unlisted one as "Other")."""
    if not name or is_listed(name):
        return {"carrier": name}
    return {"carrier": OTHER, "carrier_other": name}


class CarrierFormMixin:
    """A form with `carrier` chosen from the list and, for "Other", `carrier_other`, the
    carrier's own name: `cleaned_data["carrier"]` is the carrier's name either way."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("carrier") == OTHER and cleaned.get("carrier_other", "").strip():
            cleaned["carrier"] = carrier_name(cleaned["carrier_other"])
        return cleaned


def carrier_other_field():
    return forms.CharField(label=_("Other carrier's name"), max_length=100, required=False,
                           help_text=_("With “Other”: the carrier's name, as the store should be told."))


class PackageForm(CarrierFormMixin, forms.Form):
    """What a package is sent with: the details a shipment is made with and can be corrected."""

    carrier = CarrierField()
    carrier_other = carrier_other_field()
    service = forms.CharField(label=_("Service"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False)
    ship_date = forms.DateField(label=_("Ship date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=format_lazy(_("Empty: today in the store's time zone. At most a year ago "
                                                        "or {days} days ahead."), days=SHIP_DATE_MAX_FUTURE_DAYS))


class ShipmentDetailsForm(PackageForm):
    cost = forms.DecimalField(label=_("Cost"), required=False, min_value=0, max_digits=12, decimal_places=2)
    notify_store = forms.BooleanField(
        label=_("Notify the store"), required=False,
        help_text=_('Untick for "do not notify the store" (e.g. additional shipments).'),
    )
    notify_customer = forms.BooleanField(label=_("E-mail the customer"), required=False)

    def __init__(self, *args, notifies_store: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not notifies_store:  # a store type that is never notified: nothing to choose
            del self.fields["notify_store"]

    def shipment_details(self) -> dict:
        """The cleaned details as the shipping services' keyword arguments."""
        return {name: self.cleaned_data[name] for name in ShipmentDetailsForm.base_fields
                if name in self.fields and name != "carrier_other"}


class ShipForm(ShipmentDetailsForm):
    """The order page's "Ship" form: the shipment's details and a quantity per line."""

    def __init__(self, *args, lines: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            item = line["item"]
            if item.adjustment:
                continue
            self.fields[f"qty_{item.pk}"] = forms.IntegerField(
                label=item.sku or item.name or item.line_item_id, min_value=0, required=False,
                initial=line["initial"],
            )

    def items(self) -> list[tuple[OrderItem, int]]:
        return [
            (line["item"], self.cleaned_data.get(f"qty_{line['item'].pk}") or 0)
            for line in self.lines if not line["item"].adjustment
        ]

    def detail_fields(self):
        return [self[name] for name in ShipmentDetailsForm.base_fields if name in self.fields]

    def quantity_rows(self):
        for line in self.lines:
            field = None if line["item"].adjustment else self[f"qty_{line['item'].pk}"]
            yield line, field


class ShipmentCorrectionForm(PackageForm):
    """The shipment page's "Correct" form: the package's details as they are, to change. "Send
    the correction to the store" is offered only when the store was notified and can take it."""

    ship_date = forms.DateField(label=_("Ship date"), widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=format_lazy(_("At most a year ago or {days} days ahead (or the shipment's "
                                                        "own date)."), days=SHIP_DATE_MAX_FUTURE_DAYS))
    notify_store = forms.BooleanField(
        label=_("Send the correction to the store"), required=False, initial=True,
        help_text=_("The store was notified of this shipment: it is sent a new shipment notice with the corrected "
                    "values. Untick to correct it here only."),
    )

    def __init__(self, *args, offer_notify: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not offer_notify:
            del self.fields["notify_store"]

    def corrections(self) -> dict:
        """The cleaned values as shipment_update's keyword arguments."""
        values = {name: self.cleaned_data[name] for name in PackageForm.base_fields if name != "carrier_other"}
        if "notify_store" in self.fields:
            values["notify_store"] = self.cleaned_data["notify_store"]
        return values

    def detail_fields(self):
        return [self[name] for name in self.fields]


class ReimportForm(forms.Form):
    """A day to re-import from, in the store's zone: not in the future, not before a first
    refresh's reach."""

    since = forms.DateField(label=_("Re-import from"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean_since(self):
        since = self.cleaned_data["since"]
        today = timezone.localdate(timezone=self.tz)
        if since > today:
            raise forms.ValidationError(_("The date is in the future."))
        earliest = today - dt.timedelta(days=settings.SHIPBRIDGE_FIRST_IMPORT_DAYS)
        if since < earliest:
            raise forms.ValidationError(gettext("Choose a day from {day} on ({days} days back at most).").format(
                day=date_format(earliest), days=settings.SHIPBRIDGE_FIRST_IMPORT_DAYS))
        return since
# --- "Add order": an order entered by hand -------------------------------------------------

SHIP_TO_FIELDS = ("ship_to_name", "ship_to_company", "ship_to_street1", "ship_to_street2", "ship_to_street3",
                  "ship_to_city", "ship_to_state", "ship_to_postal_code", "ship_to_country", "ship_to_phone")
# Their labels under the "Ship to" heading
SHIP_TO_LABELS = {"ship_to_name": _("Name"), "ship_to_company": _("Company"), "ship_to_street1": _("Street1"),
                  "ship_to_street2": _("Street2"), "ship_to_street3": _("Street3"), "ship_to_city": _("City"),
                  "ship_to_state": _("State"), "ship_to_postal_code": _("Postal code"),
                  "ship_to_country": _("Country"), "ship_to_phone": _("Phone")}


class ManualOrderForm(forms.Form):
    """The order of the "Add order" page (its lines are ManualLineFormSet). It parses; the
    manual-order service decides (address completeness, the country, a number already taken)."""

    order_number = forms.CharField(label=_("Order number"), max_length=100, required=False,
                                   help_text=_("Empty: the next number of the merchant's manual orders (M-000001…)."))
    customer_email = forms.EmailField(label=_("Customer e-mail"), max_length=254, required=False)
    notes = forms.CharField(label=_("Internal notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(Order, fields=SHIP_TO_FIELDS))
        for name in SHIP_TO_FIELDS:  # under the "Ship to" heading: "Name", "Street1"...
            self.fields[name].label = SHIP_TO_LABELS[name]
        for name in ("ship_to_street1", "ship_to_city", "ship_to_postal_code", "ship_to_country"):
            self.fields[name].required = True
        self.fields["ship_to_country"].help_text = _("2-letter ISO code: US, GB, DE…")
        self.fields["ship_to_state"].help_text = _("State or province code; needed for US, CA, AU, BR and MX.")

    def number_fields(self):
        return [self["order_number"]]

    def ship_to_fields(self):
        return [self[name] for name in SHIP_TO_FIELDS]

    def customer_fields(self):
        return [self["customer_email"], self["notes"]]

    def order_details(self) -> dict:
        """The cleaned order as manual_order_create's keyword arguments (lines apart)."""
        data = self.cleaned_data
        return {
            "order_number": data["order_number"],
            "ship_to": {name.removeprefix("ship_to_"): data[name] for name in SHIP_TO_FIELDS},
            "customer_email": data["customer_email"],
            "notes": data["notes"],
        }


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.sku} — {obj.name}" if obj.name else obj.sku


class ManualLineForm(forms.Form):
    """One line: a product of the merchant, or a typed SKU (and name). Left blank: no line."""

    product = ProductChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False,
                                 empty_label=_("— typed —"))
    sku = forms.CharField(label=_("SKU"), max_length=200, required=False, widget=forms.TextInput(attrs={"size": 16}))
    name = forms.CharField(label=_("Name"), max_length=500, required=False,
                           widget=forms.TextInput(attrs={"size": 30}))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1,
                                  widget=forms.NumberInput(attrs={"style": "width: 5em"}))
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, max_digits=12, decimal_places=2, required=False,
                                    widget=forms.NumberInput(attrs={"style": "width: 8em", "step": "0.01"}))

    def __init__(self, *args, products=None, **kwargs):
        super().__init__(*args, **kwargs)
        if products is not None:
            self.fields["product"].queryset = products

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("product") and not cleaned.get("sku"):
            raise forms.ValidationError(_("Choose a product or type a SKU."))
        return cleaned


class BaseManualLineFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if not any(errors for errors in self.errors) and not self.lines():
            raise forms.ValidationError(_("Enter at least one line."))

    def lines(self) -> list[dict]:
        """The filled-in lines as manual_order_create's `lines`."""
        return [{key: form.cleaned_data.get(key) for key in ManualLineForm.base_fields}
                for form in self.forms if form.has_changed() and form.cleaned_data]


MAX_MANUAL_LINES = 200


def manual_line_formset(*, rows: int = 5):
    """The lines' formset class, showing `rows` blank rows."""
    return forms.formset_factory(ManualLineForm, formset=BaseManualLineFormSet, extra=rows,
                                 max_num=MAX_MANUAL_LINES, validate_max=True)


# --- the desk: bulk ship ---------------------------------------------------------------------

MAX_BULK_ORDERS = 500


class BulkShipForm(CarrierFormMixin, forms.Form):
    """Bulk ship: one carrier, service and ship date for the selected orders, a tracking number
    for each (typed or scanned), whether to notify the stores and e-mail the customers."""

    carrier = CarrierField()
    carrier_other = carrier_other_field()
    service = forms.CharField(label=_("Service"), max_length=100, required=False)
    ship_date = forms.DateField(label=_("Ship date"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=_("Empty: today in each store's time zone."))
    notify_store = forms.BooleanField(label=_("Notify the stores"), required=False, initial=True,
                                      help_text=_("Untick for “do not notify the store”. Orders entered by hand "
                                                  "have no store to notify."))
    notify_customer = forms.BooleanField(label=_("E-mail the customers"), required=False)

    def __init__(self, *args, orders, **kwargs):
        super().__init__(*args, **kwargs)
        self.orders = list(orders)
        for order in self.orders:
            self.fields[self.tracking_name(order)] = forms.CharField(
                label=order.order_number, max_length=100, required=False,
                widget=forms.TextInput(attrs={"class": "sb-scan", "autocomplete": "off", "size": 26}))

    @staticmethod
    def tracking_name(order) -> str:
        return f"tracking_{order.pk}"

    def detail_fields(self):
        return [self[name] for name in ("carrier", "carrier_other", "service", "ship_date", "notify_store",
                                        "notify_customer")]

    def order_rows(self):
        for order in self.orders:
            yield order, self[self.tracking_name(order)]

    def clean(self):
        cleaned = super().clean()
        seen: dict[str, str] = {}
        for order in self.orders:
            number = " ".join((cleaned.get(self.tracking_name(order)) or "").split())
            if not number:
                continue
            if number in seen:
                self.add_error(self.tracking_name(order), _(
                    "Tracking number %(number)s is also given for order %(other)s: one package per order here "
                    "(combine the orders to ship them in one package).") % {"number": number, "other": seen[number]})
            seen[number] = order.order_number
        return cleaned

    def ship_details(self) -> dict:
        """The cleaned values as orders_ship_each's keyword arguments (orders apart)."""
        data = self.cleaned_data
        return {
            "carrier": data["carrier"], "service": data["service"], "ship_date": data["ship_date"],
            "notify_store": data["notify_store"], "notify_customer": data["notify_customer"],
            "tracking_numbers": {o.pk: data.get(self.tracking_name(o)) or "" for o in self.orders},
        }


# --- the desk: tracking numbers from a file ----------------------------------------------------

class TrackingUploadForm(forms.Form):
    """A tracking CSV to preview; with `content` (the file's text, sent back by the preview
    page) the rows to ship once confirmed."""

    file = forms.FileField(label=_("CSV file"), required=False,
                           help_text=_("Order number and tracking number columns, and where you have them carrier, "
                                       "service and ship date; the exports of ShipStation, UPS WorldShip, FedEx Ship "
                                       "Manager, USPS and Pirate Ship are read as they are."))
    content = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)
    store = forms.ModelChoiceField(label=_("Store"), queryset=None, required=False,
                                   empty_label=_("Any store (the order number decides)"))
    notify_store = forms.BooleanField(label=_("Notify the stores"), required=False, initial=True,
                                      help_text=_("Each store's own setting decides; untick for “do not notify the "
                                                  "store”."))

    def __init__(self, *args, stores, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not cleaned.get("content"):
            raise forms.ValidationError(_("Choose a CSV file."))
        return cleaned

    def data_bytes(self) -> bytes:
        upload = self.cleaned_data.get("file")
        if upload:
            return upload.read(5 * 1024 * 1024 + 1)
        return self.cleaned_data["content"].encode("utf-8")


# --- the desk: scan to verify, then ship ------------------------------------------------------

class PackShipForm(CarrierFormMixin, forms.Form):
    """The packing page's Ship form, shown once every unit is scanned: the package's details,
    the tracking number typed or scanned."""

    carrier = CarrierField()
    carrier_other = carrier_other_field()
    service = forms.CharField(label=_("Service"), max_length=100, required=False)
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=100, required=False,
                                      widget=forms.TextInput(attrs={"autocomplete": "off", "size": 30}))
    notify_store = forms.BooleanField(label=_("Notify the store"), required=False)

    def detail_fields(self):
        return [self[name] for name in ("carrier", "carrier_other", "service", "tracking_number", "notify_store")]
