"""Admin forms for stores: connection settings from the connector's schema, secrets write-only."""
from __future__ import annotations

from django import forms

from .connectors.registry import CONNECTOR_NAMES, get_connector_class
from .models import OrderStatus, Store
from .services import StoreInputError, clean_connection_settings


def _all_setting_fields():
    """Every setting key any connector uses, with the label of its first use."""
    seen = {}
    for name in CONNECTOR_NAMES:
        for f in get_connector_class(name).settings_schema:
            entry = seen.setdefault(f.key, {"field": f, "connectors": []})
            entry["connectors"].append(name)
    return seen


SETTING_FIELDS = _all_setting_fields()


def setting_field_name(key: str) -> str:
    return f"conn_{key}"


class StoreAdminForm(forms.ModelForm):
    """Store page form. Connection fields are named conn_<key>; the store's connector decides
    which are used. Secrets are never rendered back: blank keeps the stored value."""

    class Meta:
        model = Store
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = dict(self.instance.settings) if self.instance.pk else {}
        for key, entry in SETTING_FIELDS.items():
            field = self.fields[setting_field_name(key)]
            if entry["field"].secret:
                if self.instance.pk and self.instance.encrypted_secrets:
                    field.help_text = "A value is stored (encrypted, never shown). Leave blank to keep it. " + field.help_text
            else:
                field.initial = current.get(key, "")
        if "connector" in self.fields and self.instance.pk:
            self.fields["connector"].disabled = True
            self.fields["connector"].help_text = "A store's connector cannot change; add a new store instead."

    def clean(self):
        cleaned = super().clean()
        connector = cleaned.get("connector") or self.instance.connector
        if connector not in CONNECTOR_NAMES:
            return cleaned
        cls = get_connector_class(connector)
        values = {}
        stored_secrets = self.instance.get_secrets() if self.instance.pk else {}
        for f in cls.settings_schema:
            value = (cleaned.get(setting_field_name(f.key)) or "")
            if f.secret and not value:
                value = stored_secrets.get(f.key, "")
            values[f.key] = value
        try:
            self._connection = clean_connection_settings(connector, values)
        except StoreInputError as exc:
            message = str(exc)
            for f in cls.settings_schema:
                if repr(f.key) in message:
                    self.add_error(setting_field_name(f.key), message)
                    break
            else:
                self.add_error(None, message)
        return cleaned

    def save(self, commit=True):
        store = super().save(commit=False)
        public, secrets = self._connection
        store.settings = public
        store.set_secrets(secrets)
        if commit:
            store.save()
            self.save_m2m()
        return store


def _connection_form_field(key: str, entry: dict) -> forms.Field:
    f = entry["field"]
    used_by = "used by: " + ", ".join(entry["connectors"])
    help_text = f"{f.help_text} ({used_by})" if f.help_text else f"({used_by})"
    if f.secret:
        return forms.CharField(
            label=f.label, required=False, strip=False, help_text="Stored encrypted. " + help_text,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
    if f.choices:
        return forms.ChoiceField(label=f.label, required=False, help_text=help_text,
                                 choices=[("", "---------")] + [(c, c) for c in f.choices])
    return forms.CharField(label=f.label, required=False, help_text=help_text)


CONNECTION_FIELD_NAMES = tuple(setting_field_name(k) for k in SETTING_FIELDS)
for _key, _entry in SETTING_FIELDS.items():
    _field = _connection_form_field(_key, _entry)
    StoreAdminForm.declared_fields[setting_field_name(_key)] = _field
    StoreAdminForm.base_fields[setting_field_name(_key)] = _field


class StatusListsForm(forms.Form):
    """ShipStation-style status mapping: five comma-separated lists of store statuses."""

    awaiting_payment = forms.CharField(label="Unpaid", required=False)
    awaiting_shipment = forms.CharField(label="Paid", required=False)
    shipped = forms.CharField(label="Shipped", required=False)
    cancelled = forms.CharField(label="Cancelled", required=False)
    on_hold = forms.CharField(label="On-Hold", required=False)

    @classmethod
    def initial_for(cls, mapping: dict[str, str]) -> dict[str, str]:
        lists: dict[str, list[str]] = {s: [] for s in OrderStatus.values}
        for store_status, status in mapping.items():
            lists[status].append(store_status)
        return {k: ", ".join(sorted(v)) for k, v in lists.items()}

    def clean(self):
        cleaned = super().clean()
        mapping: dict[str, str] = {}
        for status in OrderStatus.values:
            for store_status in (s.strip() for s in (cleaned.get(status) or "").split(",")):
                if not store_status:
                    continue
                if store_status in mapping and mapping[store_status] != status:
                    raise forms.ValidationError(
                        f"Store status {store_status!r} is listed under two statuses; a status maps to one."
                    )
                mapping[store_status] = status
        cleaned["mapping"] = mapping
        return cleaned
