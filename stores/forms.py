"""Admin forms for stores.

The store page form is built for one connector: its connection fields come from the connector's
settings schema (secrets write-only: never rendered back, blank keeps the stored value) and its
status-mapping fields follow the connector's `status_mapping_style` — five comma-separated
lists, or one select per known store status.
The form only parses and shows errors: every rule (connection settings, secrets left blank,
duplicate names, the mapping) is the services' (`store_create` / `store_update`, asked here in
dry-run mode), and the admin saves through those same services.
"""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from django import forms
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from .connectors.base import SettingField
from .connectors.registry import CONNECTOR_NAMES, connector_choices, get_connector_class
from .i18n import DEFAULT_LANGUAGE, translated
from .logos import LogoError, logo_prepare
from .models import Merchant, OrderStatus, Store, User
from .services import STORE_OPTION_FIELDS, StoreInputError, store_create, store_update


def setting_field_name(key: str) -> str:
    return f"conn_{key}"


def connection_field_names(connector: str) -> tuple[str, ...]:
    return tuple(setting_field_name(f.key) for f in get_connector_class(connector).settings_schema)


def secret_field_names() -> tuple[str, ...]:
    """The store page's fields that hold a secret, whatever the connector (the POST parameters
    an error report must never show)."""
    return tuple(sorted({setting_field_name(key) for name in CONNECTOR_NAMES
                         for key in get_connector_class(name).secret_keys()}))


# --- status mapping -----------------------------------------------------------------------

LIST_FIELD_PREFIX = "map_list_"
STATUS_FIELD_PREFIX = "map_status_"


def mapping_style(connector: str) -> str:
    """How the connector's status mapping is edited: "lists" or "per_status" (Connector)."""
    return get_connector_class(connector).status_mapping_style


def _status_field_name(store_status: str) -> str:
    return STATUS_FIELD_PREFIX + store_status.encode("utf-8").hex()


def _status_from_field_name(name: str) -> str:
    return bytes.fromhex(name[len(STATUS_FIELD_PREFIX):]).decode("utf-8")


def per_status_statuses(connector: str, current: dict[str, str]) -> list[str]:
    """The connector's known statuses, then any other status already mapped (kept, not lost)."""
    known = list(get_connector_class(connector).known_statuses)
    return known + sorted(s for s in current if s not in known)


def mapping_field_names(connector: str, current: dict[str, str]) -> tuple[str, ...]:
    if mapping_style(connector) == "lists":
        return tuple(LIST_FIELD_PREFIX + name for name in StatusListsForm.base_fields)
    return tuple(_status_field_name(s) for s in per_status_statuses(connector, current))


class StatusListsForm(forms.Form):
    """ShipStation-style status mapping: five comma-separated lists of store statuses."""

    awaiting_payment = forms.CharField(label=_("Unpaid"), required=False)
    awaiting_shipment = forms.CharField(label=_("Paid"), required=False)
    shipped = forms.CharField(label=_("Shipped"), required=False)
    cancelled = forms.CharField(label=_("Cancelled"), required=False)
    on_hold = forms.CharField(label=_("On-Hold"), required=False)

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
                        gettext("Store status {status} is listed under two statuses; a status maps to one.").format(
                            status=repr(store_status))
                    )
                mapping[store_status] = status
        cleaned["mapping"] = mapping
        return cleaned


# --- widgets ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    names = {n for n in available_timezones() if "/" in n or n == "UTC"}
    names -= {n for n in names if n.startswith(("Etc/", "SystemV/", "posix/", "right/"))}
    return tuple(sorted(names, key=lambda n: (n != "UTC", n)))


class TimeZoneInput(forms.TextInput):
    """A text input with a datalist of IANA zone names: type "chic" and pick America/Chicago."""

    datalist_id = "iana-time-zones"

    def __init__(self, attrs=None):
        super().__init__({"list": self.datalist_id, "autocomplete": "off", "spellcheck": "false",
                          "size": 32, "placeholder": _("e.g. America/Chicago"),
                          **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}">', ((n,) for n in timezone_names()))
        return format_html('{}<datalist id="{}">{}</datalist>', html, self.datalist_id, options)


# --- the store page form ------------------------------------------------------------------


def _connection_form_field(f: SettingField, *, stored_secret: bool, moves_with: tuple[str, ...]) -> forms.Field:
    if f.secret:
        help_text = gettext("Stored encrypted, never shown back.")
        if stored_secret:
            help_text = gettext("A value is stored (encrypted, never shown). Leave blank to keep it.")
            if moves_with:  # the store's address (a URL): a secret stays bound to it
                help_text = gettext(
                    "A value is stored (encrypted, never shown). Leave blank to keep it — unless the {address} "
                    "changes server (scheme, host or port): a stored secret is never sent to a new address, so "
                    "enter it again.").format(address=gettext(" or ").join(str(label) for label in moves_with))
        return forms.CharField(
            label=f.label, required=False, strip=False, help_text=help_text,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
    if f.choices:
        return forms.ChoiceField(label=f.label, required=f.required, help_text=f.help_text,
                                 choices=[("", "---------")] + list(zip(f.choices, f.choice_labels or f.choices)))
    return forms.CharField(label=f.label, required=f.required, help_text=f.help_text,
                           widget=forms.TextInput(attrs={"size": 60}))


LOGO_CONTENT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class StoreAdminForm(forms.ModelForm):
    """The store page. `connector_name` (set by the admin for the add page) or the instance's
    connector decides the connection and status-mapping fields."""

    connector_name: str | None = None

    class Meta:
        model = Store
        fields = "__all__"
        widgets = {"timezone": TimeZoneInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status_mapping: dict[str, str] | None = None
        connector = self.instance.connector if self.instance.pk else (self.connector_name or "")
        self.connector = connector if connector in CONNECTOR_NAMES else ""
        if "connector" in self.fields:
            field = self.fields["connector"] = forms.ChoiceField(label=_("Connector"), choices=connector_choices())
            if self.instance.pk:
                field.disabled = True
                field.help_text = _("A store's connector cannot change; add a new store instead.")
            elif self.connector:
                self.instance.connector = self.connector
                self.initial["connector"] = self.connector
                field.disabled = True
                field.help_text = _("Chosen on the previous page.")
        if "brand_logo" in self.fields:  # a plain file: stores/logos.py reads it (not Django's ImageField)
            logo = self.fields["brand_logo"]
            logo.widget.attrs["accept"] = ",".join(LOGO_CONTENT_TYPES)
            self.fields["brand_logo"] = forms.FileField(label=logo.label, required=False, widget=logo.widget,
                                                        help_text=logo.help_text)
        if "language" in self.fields:  # not sent (an older page): the store keeps its language
            self.fields["language"].required = False
        if "timezone" in self.fields:
            self.fields["timezone"].widget = TimeZoneInput()
            self.fields["timezone"].label = _("Time zone")
            self.fields["timezone"].help_text = _(
                "The IANA zone of the store's server clock (type to search, e.g. America/Chicago). "
                "Timestamps are read and filters written in it; the database keeps UTC."
            )
        if not self.connector:
            return
        cls = get_connector_class(self.connector)
        has_secrets = bool(self.instance.pk and self.instance.encrypted_secrets)
        current = dict(self.instance.settings) if self.instance.pk else {}
        address_labels = tuple(f.label for f in cls.settings_schema if f.key in cls.address_keys)
        for f in cls.settings_schema:
            field = _connection_form_field(f, stored_secret=has_secrets, moves_with=address_labels)
            if not f.secret:
                field.initial = current.get(f.key, "")
            self.fields[setting_field_name(f.key)] = field
        if cls.imports_orders:  # a store type that imports nothing has no status mapping
            self._add_mapping_fields()

    # -- status mapping fields --
    def current_mapping(self) -> dict[str, str]:
        if self.instance.pk:
            return self.instance.status_map()
        # a new store: the usual mapping for the settings chosen with the connector (its platform)
        chosen = {f.key: self.initial.get(setting_field_name(f.key)) or ""
                  for f in get_connector_class(self.connector).settings_schema}
        return get_connector_class(self.connector).default_mapping(chosen)

    def _add_mapping_fields(self) -> None:
        current = self.current_mapping()
        if mapping_style(self.connector) == "lists":
            initial = StatusListsForm.initial_for(current)
            for name, base in StatusListsForm.base_fields.items():
                self.fields[LIST_FIELD_PREFIX + name] = forms.CharField(
                    label=base.label, required=False, initial=initial[name],
                    widget=forms.TextInput(attrs={"size": 60}),
                    help_text=(_("Store statuses, comma-separated, case-sensitive.")
                               if name == "awaiting_payment" else ""),
                )
        else:
            choices = [("", _("not imported"))] + list(OrderStatus.choices)
            for store_status in per_status_statuses(self.connector, current):
                self.fields[_status_field_name(store_status)] = forms.ChoiceField(
                    label=store_status, required=False, choices=choices, initial=current.get(store_status, ""),
                )

    def _clean_mapping(self, cleaned) -> dict[str, str] | None:
        if mapping_style(self.connector) == "lists":
            lists = StatusListsForm(data={name: cleaned.get(LIST_FIELD_PREFIX + name, "")
                                          for name in StatusListsForm.base_fields})
            if not lists.is_valid():
                for error in lists.non_field_errors():
                    self.add_error(None, error)
                return None
            mapping = lists.cleaned_data["mapping"]
        else:
            mapping = {}
            for name in self.fields:
                if name.startswith(STATUS_FIELD_PREFIX) and cleaned.get(name):
                    mapping[_status_from_field_name(name)] = cleaned[name]
        return mapping

    # -- branding --
    def clean_language(self):
        return self.cleaned_data.get("language") or self.instance.language or DEFAULT_LANGUAGE

    def clean_brand_logo(self):
        logo = self.cleaned_data.get("brand_logo")
        if not isinstance(logo, UploadedFile):
            return logo  # unchanged, cleared or empty
        try:  # checked and re-encoded once: the services keep a prepared logo as it is
            return logo_prepare(logo)
        except LogoError as exc:
            raise forms.ValidationError(as_sentence(translated(str(exc))), code="logo") from None

    # -- the whole form --
    @sensitive_variables()  # the typed secrets: never in an error report (nor what this calls)
    def full_clean(self):
        return super().full_clean()

    def clean(self):
        cleaned = super().clean()
        if not self.connector:
            connector = cleaned.get("connector")
            if connector:
                self.add_error("connector", gettext("Choose the connector on the previous page."))
            return cleaned
        cls = get_connector_class(self.connector)
        self.status_mapping = self._clean_mapping(cleaned) if cls.imports_orders else None
        self.store_input = {
            "name": cleaned.get("name") or "",
            "timezone": cleaned.get("timezone") or "UTC",
            "settings": {f.key: cleaned.get(setting_field_name(f.key)) or "" for f in cls.settings_schema},
            "status_mapping": self.status_mapping,
            **{name: cleaned[name] for name in STORE_OPTION_FIELDS if name in cleaned},
        }
        if "merchant" in cleaned:
            self.store_input["merchant"] = cleaned["merchant"]
        elif self.instance.merchant_id is not None:  # a merchant's own user: their merchant
            self.store_input["merchant"] = Merchant.objects.get(pk=self.instance.merchant_id)
        if not self.store_input.get("merchant"):
            return cleaned  # no merchant chosen: its field says so
        try:
            self.save_store(dry_run=True)
        except StoreInputError as exc:
            for field, message in exc.errors:
                self._add_service_error(field, as_sentence(translated(message)))
        return cleaned

    def _add_service_error(self, field: str | None, message: str) -> None:
        """Show a service's error on its field, unless the field's own check already said
        what is wrong with it."""
        if field and field.startswith("settings."):
            field = setting_field_name(field.removeprefix("settings."))
        field = field if field in self.fields else None
        if field is not None and field in self.errors:
            return
        if field is None and message in self.non_field_errors():
            return
        self.add_error(field, message)

    def validate_unique(self):
        """The store's constraints (one name per merchant) are the services' to check."""

    @sensitive_variables()
    def save_store(self, *, dry_run: bool = False) -> Store:
        """Create or change the store through the services, from what clean() parsed."""
        if self.instance.pk:
            return store_update(store=self.instance, dry_run=dry_run, **self.store_input)
        return store_create(connector=self.connector, dry_run=dry_run, **self.store_input)


def as_sentence(message) -> str:
    """A service's one-line message (or error) as a sentence for a form or a page's message."""
    message = str(message).strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


# --- users: a merchant's new login in one page ------------------------------------------------

# The groups created by migration stores/0003; merchant admins may give their users these only.
# (their names are shown translated: marked here)
MERCHANT_GROUPS = (gettext_noop("merchant admin"), gettext_noop("shipping clerk"))


class RoleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return capfirst(_(obj.name))


class MerchantUserCreationForm(AdminUserCreationForm):
    """A merchant admin's "Add user" page: the login, its role (one of the merchant groups) and
    who it is, in one page. The new user can log in at once (staff status is set: the role
    decides what they may do) and belongs to the admin's merchant (the admin assigns it)."""

    groups = RoleChoiceField(
        label=_("Role"), queryset=Group.objects.filter(name__in=MERCHANT_GROUPS).order_by("name"),
        widget=forms.RadioSelect, empty_label=None,
        help_text=_("A shipping clerk ships orders; a merchant admin also manages stores, products and users."),
    )

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email")

    def clean_groups(self):
        return [self.cleaned_data["groups"]]  # saved as the user's only group

    def save(self, commit=True):
        self.instance.is_staff = True  # a merchant's user logs in here: the role says what they may do
        return super().save(commit=commit)
