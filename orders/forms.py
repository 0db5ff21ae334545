"""Forms of the orders pages: the shipment's details, the order page's "Ship" form, and a store's
"Re-import from a date"."""
import datetime as dt

from django import forms
from django.conf import settings
from django.utils import timezone

from .models import OrderItem


class ShipmentDetailsForm(forms.Form):
    carrier = forms.CharField(max_length=100, help_text="e.g. UPS, USPS, FedEx, DHL, CanadaPost, RoyalMail, Other")
    service = forms.CharField(max_length=100, required=False)
    tracking_number = forms.CharField(max_length=100, required=False)
    ship_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="Empty: today in the store's time zone.")
    cost = forms.DecimalField(required=False, min_value=0, max_digits=12, decimal_places=2)
    notify_store = forms.BooleanField(
        label="Notify the store", required=False,
        help_text='Untick for "do not notify the store" (e.g. additional shipments).',
    )
    notify_customer = forms.BooleanField(label="E-mail the customer", required=False)

    def shipment_details(self) -> dict:
        """The cleaned details as the shipping services' keyword arguments."""
        return {name: self.cleaned_data[name] for name in ShipmentDetailsForm.base_fields}


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
        return [self[name] for name in ShipmentDetailsForm.base_fields]

    def quantity_rows(self):
        for line in self.lines:
            field = None if line["item"].adjustment else self[f"qty_{line['item'].pk}"]
            yield line, field



class ReimportForm(forms.Form):
    """A day to re-import from, in the store's zone: not in the future, not before a first
    refresh's reach."""

    since = forms.DateField(label="Re-import from", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean_since(self):
        since = self.cleaned_data["since"]
        today = timezone.localdate(timezone=self.tz)
        if since > today:
            raise forms.ValidationError("The date is in the future.")
        earliest = today - dt.timedelta(days=settings.SHIPBRIDGE_FIRST_IMPORT_DAYS)
        if since < earliest:
            raise forms.ValidationError(f"Choose a day from {earliest:%Y-%m-%d} on "
                                        f"({settings.SHIPBRIDGE_FIRST_IMPORT_DAYS} days back at most).")
        return since
