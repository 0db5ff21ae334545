"""Forms of the shipping pages: the shipment's details, the order page's "Ship" form, and the
shipment page's "Correct" form."""
from django import forms

from .models import OrderItem


class PackageForm(forms.Form):
    """What a package is sent with: the details a shipment is made with and can be corrected."""

    carrier = forms.CharField(max_length=100, help_text="e.g. UPS, USPS, FedEx, DHL, CanadaPost, RoyalMail, Other")
    service = forms.CharField(max_length=100, required=False)
    tracking_number = forms.CharField(max_length=100, required=False)
    ship_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="Empty: today in the store's time zone.")


class ShipmentDetailsForm(PackageForm):
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


class ShipmentCorrectionForm(PackageForm):
    """The shipment page's "Correct" form: the package's details as they are, to change. "Send
    the correction to the store" is offered only when the store was notified and can take it."""

    ship_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    notify_store = forms.BooleanField(
        label="Send the correction to the store", required=False, initial=True,
        help_text="The store was notified of this shipment: it is sent a new shipment notice with the corrected "
                  "values. Untick to correct it here only.",
    )

    def __init__(self, *args, offer_notify: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not offer_notify:
            del self.fields["notify_store"]

    def corrections(self) -> dict:
        """The cleaned values as shipment_update's keyword arguments."""
        values = {name: self.cleaned_data[name] for name in PackageForm.base_fields}
        if "notify_store" in self.fields:
            values["notify_store"] = self.cleaned_data["notify_store"]
        return values

    def detail_fields(self):
        return [self[name] for name in self.fields]
