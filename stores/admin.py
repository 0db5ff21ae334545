"""The store settings pages, merchants and users in the admin.

What a store page does with orders (Refresh now, the activity log, resending notifications)
is added by `orders` (orders/admin.py), which builds on this admin."""
from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .connectors.registry import addable_connector_names, connector_choices, get_connector_class
from .debug import hides_secrets
from .forms import (MERCHANT_GROUPS, MerchantUserCreationForm, StoreAdminForm, connection_field_names,
                    mapping_field_names, mapping_style, secret_field_names, setting_field_name)
from .i18n import translated
from .logos import LOGO_RULE
from .models import Merchant, OrderStatus, StatusMapping, Store, User
from .scoping import MerchantScopedAdmin, user_merchant_id, without_merchant_field
from .selectors import next_refresh_words, store_state
from .services import store_test_connection

log = logging.getLogger("shipbridge.admin")

admin.site.site_header = "ShipBridge"
admin.site.site_title = "ShipBridge"
admin.site.index_title = _("Order hub")


@admin.register(Merchant)
class MerchantAdmin(MerchantScopedAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


class GroupsFilter(RelatedFieldListFilter):
    """The Users list's "groups" filter, ShipBridge's roles named in the reader's language."""

    def groups(self):
        return Group.objects.order_by("name")

    def field_choices(self, field, request, model_admin):
        return [(group.pk, gettext(group.name)) for group in self.groups()]


class MerchantGroupsFilter(GroupsFilter):
    """The Users list's "groups" filter for a merchant's users: the ShipBridge merchant groups
    only (the platform's other groups are not theirs to see)."""

    def groups(self):
        return Group.objects.filter(name__in=MERCHANT_GROUPS).order_by("name")


@admin.register(User)
class UserAdmin(MerchantScopedAdmin, BaseUserAdmin):
    """Platform superusers manage every user. A merchant's user with user permissions manages
    the users of that merchant only: no superusers, no individual permissions, only the
    ShipBridge groups, and new users join that merchant."""

    list_display = ("username", "email", "merchant", "is_staff", "is_superuser", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "merchant", "groups")
    list_select_related = ("merchant",)
    fieldsets = BaseUserAdmin.fieldsets + ((_("Merchant"), {"fields": ("merchant", "language")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + ((_("Merchant"), {"fields": ("merchant",)}),)
    merchant_fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "groups"),
                            "description": _("“Staff status” lets the user log in here; the groups decide what "
                                             "they can do.")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    # One page: the login, its role and who it is; staff status follows from the role.
    merchant_add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        (_("Role"), {"fields": ("groups",)}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if user_merchant_id(request) is not None:
            qs = qs.filter(is_superuser=False)
        return qs

    def get_fieldsets(self, request, obj=None):
        if user_merchant_id(request) is not None:
            return self.merchant_fieldsets if obj else self.merchant_add_fieldsets
        return self.fieldsets if obj else self.add_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is None and user_merchant_id(request) is not None:
            kwargs["form"] = MerchantUserCreationForm
        return super().get_form(request, obj, **kwargs)

    def get_list_display(self, request):
        display = super().get_list_display(request)
        if user_merchant_id(request) is not None:
            display = tuple(f for f in display if f != "is_superuser")
        return display

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if user_merchant_id(request) is not None:
            filters = [("groups", MerchantGroupsFilter) if f == "groups" else f for f in filters if f != "is_superuser"]
        return [("groups", GroupsFilter) if f == "groups" else f for f in filters]

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if user_merchant_id(request) is not None and obj is not None:
            readonly += ("last_login", "date_joined")
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and user_merchant_id(request) is not None:
            kwargs["queryset"] = Group.objects.filter(name__in=MERCHANT_GROUPS)
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            field.label_from_instance = lambda group: gettext(group.name)  # ShipBridge's roles, translated
        return field


class ConnectorFilter(admin.SimpleListFilter):
    """Filter stores by connector, named by its label (the registry's connectors)."""

    title = _("connector")
    parameter_name = "connector"

    def lookups(self, request, model_admin):
        return connector_choices()

    def queryset(self, request, queryset):
        return queryset.filter(connector=self.value()) if self.value() else queryset


@admin.register(Store)
class StoreAdmin(MerchantScopedAdmin):
    form = StoreAdminForm
    change_form_template = "admin/stores/store/change_form.html"
    list_display = ("name", "merchant", "connector_label", "active", "state", "timezone", "last_refresh_at",
                    "next_refresh")
    list_filter = (ConnectorFilter, "active", "last_refresh_status", "merchant")
    search_fields = ("name", "merchant__name")
    list_select_related = ("merchant",)
    activity_fields = ("last_refresh_status", "last_refresh_at", "last_refresh_error_text", "import_cursor",
                       "next_refresh_at")
    readonly_fields = ("connector_notice", "connection_summary", "status_mapping_summary", *activity_fields)
    actions = ["test_connection"]

    # -- list columns --
    @admin.display(description=_("Connector"), ordering="connector")
    def connector_label(self, obj):
        return get_connector_class(obj.connector).label

    @admin.display(description=_("State"))
    def state(self, obj):
        state = store_state(store=obj)
        return format_html('<span class="sb-state sb-state-{}" title="{}">{}</span>', state.code, state.detail,
                           state.label)

    @admin.display(description=_("Next refresh"), ordering="next_refresh_at")
    def next_refresh(self, obj):
        return next_refresh_words(store=obj)

    # -- read-only displays --
    @admin.display(description=_("last refresh error"))
    def last_refresh_error_text(self, obj):
        return translated(obj.last_refresh_error) or "—"  # kept in English: shown in the reader's language

    @admin.display(description=_("Notice"))
    def connector_notice(self, obj):
        notice = obj.connector_class.notice if obj and obj.connector else ""
        return format_html('<strong class="shipbridge-notice">{}</strong>', notice) if notice else "—"

    @admin.display(description=_("Connection"))
    def connection_summary(self, obj):
        rows = []
        for f in obj.connector_class.settings_schema:
            if f.secret:
                value = gettext("stored (encrypted, never shown)") if obj.encrypted_secrets else gettext("not set")
            else:
                value = obj.settings.get(f.key, "") or "—"
            rows.append((f.label, value))
        return format_html("<dl class='sb-summary'>{}</dl>",
                           format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))

    @admin.display(description=_("Status mapping"))
    def status_mapping_summary(self, obj):
        labels = dict(OrderStatus.choices)
        rows = sorted(obj.status_map().items(), key=lambda kv: (OrderStatus.values.index(kv[1]), kv[0]))
        if not rows:
            return gettext("No store status is mapped: nothing is imported.")
        return format_html("<ul class='sb-summary'>{}</ul>",
                           format_html_join("", "<li>{} → {}</li>", ((s, labels[v]) for s, v in rows)))

    # -- the page's sections --
    def _add_connector(self, request) -> str | None:
        connector = request.GET.get("connector")
        return connector if connector in addable_connector_names() else None

    def get_fieldsets(self, request, obj=None):
        connector = obj.connector if obj else self._add_connector(request)
        if connector is None:  # the add page before a connector is chosen
            return [(None, {"fields": ("connector",)})]
        cls = get_connector_class(connector)
        editable = self.has_change_permission(request, obj) if obj else True
        setup = ["merchant", "connector", "name", "active", "refresh_interval_minutes"]
        if not cls.imports_orders:  # nothing to schedule or to map
            setup = ["merchant", "connector", "name"]
        if editable:
            current = obj.status_map() if obj else cls.default_mapping({})
            connection, mapping = connection_field_names(connector), mapping_field_names(connector, current)
        else:
            connection, mapping = ("connection_summary",), ("status_mapping_summary",)
        if mapping_style(connector) == "lists":
            mapping_help = _("Each list holds the store's own statuses (comma-separated, case-sensitive) that "
                             "mean this ShipBridge status. An order whose status is in no list is not imported; "
                             "the import log says so.")
        else:
            mapping_help = _("Choose what each shipment status of the store means in ShipBridge. Shipments in a "
                             "status left at “not imported” are not imported.")
        # (key, title, options); the key says which sections a store type leaves out
        sections = [
            ("setup", _("Store setup"), {"fields": tuple(setup)}),
            ("connection", _("Connection details"), {
                "fields": connection,
                "description": format_lazy("{}{}{}", cls.help_text, " " if cls.help_text else "", _(
                    "Secrets are write-only: they are stored encrypted and never shown back; leave a secret "
                    "blank to keep the stored one. “Test connection” (top of the page) checks the saved details.")),
            }),
            ("timezone", _("Time zone"), {
                "fields": ("timezone",),
                "description": _("The zone of the store server's clock (UTC unless you change it).")}),
            ("mapping", _("Status mapping"), {"fields": mapping, "description": mapping_help}),
            ("store_notifications", _("Store notifications"), {
                "fields": ("notify_store",),
                "description": _("When on, the store is told about each shipment (carrier, service, tracking "
                                 "number). Staff can still tick “do not notify the store” on any shipment."),
            }),
            ("customer_notifications", _("Customer notifications"), {
                "fields": ("notify_customer",),
                "description": _("E-mail the customer when a shipment is created, with the branding below."),
            }),
            ("branding", _("Branding"), {
                "fields": ("brand_company_name", "brand_logo", "brand_phone", "brand_email", "brand_website",
                           "brand_return_address", "language"),
                "description": format_lazy(_("Used on customer e-mails and packing slips, in the customer language "
                                             "below. Logo: {rule}."), rule=LOGO_RULE),
            }),
            ("products", _("Product management"), {
                "fields": ("create_products", "update_products"),
                "description": self.products_description,
            }),
        ]
        if obj is not None:
            sections.append(("import_state", _("Import state"),
                             {"fields": self.activity_fields, "classes": ("collapse",)}))
        # what the store type does not do is not shown
        left_out = {"connection": not cls.settings_schema, "mapping": not cls.imports_orders,
                    "import_state": not cls.imports_orders, "products": not cls.imports_orders,
                    "store_notifications": not cls.notifies_store}
        fieldsets = [(title, options) for key, title, options in sections if not left_out.get(key)]
        return without_merchant_field(request, fieldsets)

    products_description = _("Products (SKU, name, weight, image, bin location) and SKU aliases of imported lines.")

    def get_form(self, request, obj=None, change=False, **kwargs):
        model_fields = {f.name for f in Store._meta.get_fields()}
        fields = kwargs.get("fields") or flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [f for f in fields if f in model_fields]
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"connector_name": None if obj else self._add_connector(request)})

    def save_model(self, request, obj, form, change):
        """Through the services (the form checked the same call in dry-run mode); `obj` then
        stands for the saved store, as the admin expects."""
        store = form.save_store()
        obj.pk = store.pk
        obj._state.adding = False
        obj.refresh_from_db()

    # -- add and change: the page takes secrets (never shown in an error report, DEBUG or not) --
    @method_decorator(hides_secrets(*secret_field_names()))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    # -- add: the connector first --
    def add_view(self, request, form_url="", extra_context=None):
        if self._add_connector(request) is None:
            if not self.has_add_permission(request):
                raise PermissionDenied
            choices = []
            for name in addable_connector_names():
                cls = get_connector_class(name)
                for index, preset in enumerate(cls.presets()):
                    query = request.GET.copy()
                    query["connector"] = name
                    for key, value in preset.settings.items():  # the add page's initial values
                        query[setting_field_name(key)] = value
                    choices.append({
                        "id": "-".join([name, *(list(preset.settings.values()) if index else [])]),
                        "label": preset.label, "help_text": preset.help_text, "notice": cls.notice,
                        "url": f"?{query.urlencode()}",
                    })
            context = {
                **self.admin_site.each_context(request),
                "title": gettext("Add store: choose its connector"),
                "opts": self.opts,
                "choices": choices,
                "has_view_permission": self.has_view_permission(request),
            }
            return TemplateResponse(request, "admin/stores/store/choose_connector.html", context)
        return super().add_view(request, form_url, extra_context)

    # -- change: buttons and state on top --
    def change_view(self, request, object_id, form_url="", extra_context=None):
        store = self.get_object(request, unquote(object_id))
        if store is not None and self.has_view_permission(request, store):
            extra_context = {**(extra_context or {}), **self._panel_context(request, store)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _panel_context(self, request, store):
        info = self.opts.app_label, self.opts.model_name
        return {
            "store_notice": store.connector_class.notice,
            "store_imports_orders": store.connector_class.imports_orders,
            "store_state": store_state(store=store),
            "store_next_refresh": next_refresh_words(store=store),
            "can_operate": self.has_change_permission(request, store),
            "test_url": reverse("admin:%s_%s_test_connection" % info, args=[store.pk]),
        }

    # -- extra pages --
    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/test-connection/", self.admin_site.admin_view(self.test_connection_view),
                 name="%s_%s_test_connection" % info),
        ] + super().get_urls()

    def store_or_404(self, request, object_id, *, change: bool) -> Store:
        """The store the URL names, if the user may see it (404 otherwise) and, with `change`,
        operate it (403 otherwise)."""
        store = self.get_object(request, unquote(object_id))
        allowed = self.has_change_permission(request, store) if change else self.has_view_permission(request, store)
        if not allowed:
            raise PermissionDenied
        return store

    def redirect_back(self, request, default: str) -> HttpResponseRedirect:
        """To the page the form came from (a `next` on this site), else to `default`."""
        target = request.POST.get("next") or ""
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                      require_https=request.is_secure()):
            return HttpResponseRedirect(target)
        return HttpResponseRedirect(default)

    def change_url(self, store) -> str:
        return reverse("admin:stores_store_change", args=[store.pk])

    @method_decorator(hides_secrets())
    def test_connection_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        store = self.store_or_404(request, object_id, change=True)
        self._test(store)  # the result shows in place on the store page (#connection-test), once
        return HttpResponseRedirect(self.change_url(store) + "#connection-test")

    def _test(self, store) -> tuple[bool, str]:
        try:
            return store_test_connection(store=store)
        except Exception as exc:  # noqa: BLE001 - a bug must not show a traceback
            log.exception("connection test of store %s failed unexpectedly", store.pk)
            return False, gettext("the test failed unexpectedly ({error}); the details are in the server's "
                                  "log").format(error=first_line(exc))

    # -- list actions --
    @admin.action(description=_("Test connection"), permissions=["change"])
    def test_connection(self, request, queryset):
        for store in queryset:
            ok, message = self._test(store)
            self.message_user(request, f"{store.name}: {translated(message)}",
                              messages.SUCCESS if ok else messages.ERROR)


def first_line(exc: Exception) -> str:
    """An unexpected error in a few words for a message: its first line, or its type."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


@admin.register(StatusMapping)
class StatusMappingAdmin(MerchantScopedAdmin):
    list_display = ("store", "store_status", "status")
    list_filter = ("status", "store")
    search_fields = ("store_status", "store__name")
    list_select_related = ("store",)
    autocomplete_fields = ("store",)
