"""Merchants kept apart in the admin.

Every model admin of a merchant-owned model derives from MerchantScopedAdmin. For a staff user
of merchant A (anything but a platform superuser) it:

- filters the admin's queryset to merchant A's rows (lists, search, actions, autocomplete,
  change/delete/history pages — another merchant's object answers 404, never a redirect, and
  before any permission check, so a read-only admin answers the same as any other);
- limits every foreign-key choice (forms, inlines, raw-id widgets and their labels, list
  filters) to A's rows;
- drops the "merchant" filter and field: new objects get merchant A automatically.

Platform superusers see everything.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.filters import RelatedFieldListFilter
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import Http404
from django.utils.translation import gettext


def user_merchant_id(request) -> int | None:
    """None for platform superusers (see everything); the merchant id otherwise (-1: none)."""
    user = request.user
    if user.is_superuser:
        return None
    return user.merchant_id or -1


def merchant_path_of(model) -> str | None:
    """The lookup from `model` to its merchant's id (the model's `merchant_lookup`), or None
    for models no merchant owns."""
    return getattr(model, "merchant_lookup", None)


def scoped_queryset(model, request, queryset=None):
    """`queryset` (default: every row of `model`) cut down to what the request's user may see."""
    qs = model._default_manager.all() if queryset is None else queryset
    merchant_id = user_merchant_id(request)
    if merchant_id is None:
        return qs
    path = merchant_path_of(model)
    if path is None:
        return qs
    return qs.filter(**{path: merchant_id})


class ScopedForeignKeyRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id widget whose label (shown next to the id, e.g. from `?order=<id>` on an add
    page) is looked up among the rows the user may see only: another merchant's id shows nothing."""

    def __init__(self, rel, admin_site, *, queryset, **kwargs):
        super().__init__(rel, admin_site, **kwargs)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            self.queryset.get(**{key: value})
        except (ValueError, TypeError, ValidationError, self.queryset.model.DoesNotExist,
                self.queryset.model.MultipleObjectsReturned):
            return "", ""
        return super().label_and_url_for_value(value)


def _limit_foreign_key(db_field, request, kwargs) -> None:
    if user_merchant_id(request) is None or "queryset" in kwargs:
        return
    related = db_field.related_model
    if merchant_path_of(related) is not None:
        kwargs["queryset"] = scoped_queryset(related, request)


def _scope_raw_id_widget(formfield, request):
    """Give a raw-id form field a widget whose label lookup is scoped like its choices."""
    if formfield is None or user_merchant_id(request) is None:
        return formfield
    widget = getattr(formfield.widget, "widget", formfield.widget)  # unwrap RelatedFieldWidgetWrapper
    if isinstance(widget, ForeignKeyRawIdWidget) and not isinstance(widget, ScopedForeignKeyRawIdWidget):
        scoped = ScopedForeignKeyRawIdWidget(widget.rel, widget.admin_site, queryset=formfield.queryset,
                                             attrs=widget.attrs, using=widget.db)
        if formfield.widget is widget:
            formfield.widget = scoped
        else:
            formfield.widget.widget = scoped
    return formfield


def without_merchant_field(request, fieldsets):
    """Merchant users never see or set the merchant field: their own merchant is assigned."""
    if user_merchant_id(request) is None:
        return fieldsets
    trimmed = []
    for name, options in fieldsets:
        fields = tuple(f for f in options.get("fields", ()) if f != "merchant")
        if fields:
            trimmed.append((name, {**options, "fields": fields}))
    return trimmed


class ScopedRelatedFieldListFilter(RelatedFieldListFilter):
    """A related-field filter offering only the related rows the user may see."""

    def field_choices(self, field, request, model_admin):
        related = field.remote_field.model
        qs = scoped_queryset(related, request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs]


class MerchantScopedAdmin(admin.ModelAdmin):
    """The admin of a merchant-owned model: the model declares `merchant_lookup`, the lookup
    from a row to its merchant's id (e.g. "store__merchant_id")."""

    @property
    def merchant_lookup(self) -> str:
        return self.model.merchant_lookup

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        merchant_id = user_merchant_id(request)
        if merchant_id is None:
            return qs
        return qs.filter(**{self.merchant_lookup: merchant_id})

    def has_add_permission(self, request):
        # a staff user attached to no merchant (and not a superuser) sees nothing and adds nothing
        if user_merchant_id(request) == -1 and self._owns_merchant_directly():
            return False
        return super().has_add_permission(request)

    # -- another merchant's object by URL: 404 (Django's default is a redirect to the index) --
    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(gettext("No {what} with this id.").format(what=opts.verbose_name))

    def get_object(self, request, object_id, from_field=None):
        """The object if the user may see it; else 404 at once. Django checks permissions
        before it looks at a missing object: without this, a read-only admin would answer 403
        to a POST on another merchant's object and 404 to a GET."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return obj

    # -- choices --
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        _limit_foreign_key(db_field, request, kwargs)
        return _scope_raw_id_widget(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def get_list_filter(self, request):
        filters = []
        merchant_user = user_merchant_id(request) is not None
        for entry in super().get_list_filter(request):
            if isinstance(entry, str):
                field = _related_field(self.model, entry)
                if field is not None and merchant_path_of(field.related_model) is not None:
                    if merchant_user and field.related_model._meta.model_name == "merchant":
                        continue  # one merchant: nothing to filter
                    entry = (entry, ScopedRelatedFieldListFilter)
            filters.append(entry)
        return filters

    def get_list_display(self, request):
        display = super().get_list_display(request)
        if user_merchant_id(request) is not None:
            display = tuple(f for f in display if f != "merchant")
        return display

    # -- new objects get the user's merchant --
    def _owns_merchant_directly(self) -> bool:
        return self.merchant_lookup == "merchant_id"

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or ())
        if user_merchant_id(request) is not None and self._owns_merchant_directly():
            exclude.append("merchant")
        return exclude

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return without_merchant_field(request, fieldsets) if self._owns_merchant_directly() else fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        merchant_id = user_merchant_id(request)
        if merchant_id is None or not self._owns_merchant_directly():
            return form
        return type(form.__name__, (MerchantAssigningFormMixin, form), {"assigned_merchant_id": merchant_id})

    def save_model(self, request, obj, form, change):
        merchant_id = user_merchant_id(request)
        if merchant_id is not None and self._owns_merchant_directly():
            obj.merchant_id = merchant_id
        super().save_model(request, obj, form, change)

    # -- inlines: the same foreign-key limits --
    def get_inline_instances(self, request, obj=None):
        instances = super().get_inline_instances(request, obj)
        for inline in instances:
            _scope_inline(inline)
        return instances


class MerchantAssigningFormMixin:
    """Sets the instance's merchant before validation, so uniqueness per merchant
    (store names, product SKUs) is checked like any other field."""

    assigned_merchant_id: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.assigned_merchant_id is not None:
            self.instance.merchant_id = self.assigned_merchant_id

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.discard("merchant")
        return exclude


def _scope_inline(inline) -> None:
    """Give an inline instance (created per request) the scoped foreign-key choices."""
    if getattr(inline, "_merchant_scoped", False):
        return
    original = inline.formfield_for_foreignkey

    def formfield_for_foreignkey(db_field, request, **kwargs):
        _limit_foreign_key(db_field, request, kwargs)
        return _scope_raw_id_widget(original(db_field, request, **kwargs), request)

    inline.formfield_for_foreignkey = formfield_for_foreignkey
    inline._merchant_scoped = True


def _related_field(model, path: str):
    """The last field of a `a__b` list_filter path when it is a foreign key, else None."""
    field = None
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if not field.is_relation:
            return None
        current = field.related_model
    return field if field is not None and field.many_to_one else None

