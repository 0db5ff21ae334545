"""The admin pages of the ShipStation-compatible API: API keys (made here with their secret shown
once, revoked here) and webhook subscriptions with their deliveries, each try's answer, and
"Resend". Scoped to the user's merchant like every merchant-owned page (stores.scoping).
Loaded by orders/admin.py."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from stores.forms import as_sentence
from stores.i18n import translated
from stores.models import Merchant
from stores.scoping import MerchantScopedAdmin, user_merchant_id

from .apikeys import api_key_create, api_key_revoke
from .models import ApiKey, DeliveryStatus, WebhookAttempt, WebhookBatch, WebhookDelivery, WebhookSubscription
from .webhooks import WebhookError, delivery_resend, subscription_check, subscription_create, subscription_secret


@admin.register(ApiKey)
class ApiKeyAdmin(MerchantScopedAdmin):
    list_display = ("label", "key", "merchant", "state", "created_at", "last_used_at")
    list_filter = ("merchant",)
    search_fields = ("label", "key")
    list_select_related = ("merchant",)
    fields = ("merchant", "label")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return ("merchant", "key", "state", "created_at", "created_by", "last_used_at", "revoked_at",
                "revoked_by") if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return ("label", *self.get_readonly_fields(request, obj))

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: its history stays

    @admin.display(description=_("state"))
    def state(self, obj):
        return gettext("revoked") if obj.revoked_at else gettext("active")

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)  # the label only
        merchant_id = user_merchant_id(request) or obj.merchant_id
        made = api_key_create(merchant=Merchant.objects.get(pk=merchant_id), label=obj.label, user=request.user)
        obj.pk, obj.key, obj.created_at = made.api_key.pk, made.key, made.api_key.created_at
        request.shipbridge_new_api_secret = made.secret

    def response_add(self, request, obj, post_url_continue=None):
        """The only page that ever shows the secret."""
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": obj,
                   "title": gettext("API key %(label)s") % {"label": obj.label or obj.key[:8]}, "api_key": obj,
                   "secret": getattr(request, "shipbridge_new_api_secret", ""),
                   "base_url": request.build_absolute_uri("/api/v1")}
        return TemplateResponse(request, "admin/orders/apikey/created.html", context)

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key, user=request.user)
        self.message_user(request, ngettext("%(count)d API key revoked: it is refused from now on.",
                                            "%(count)d API keys revoked: they are refused from now on.", len(keys))
                          % {"count": len(keys)}, messages.SUCCESS)

    def get_urls(self):
        return [path("<path:object_id>/revoke/", self.admin_site.admin_view(self.revoke_view),
                     name="orders_apikey_revoke"), *super().get_urls()]

    def revoke_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        api_key = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, api_key):
            raise PermissionDenied
        api_key_revoke(api_key=api_key, user=request.user)
        self.message_user(request, gettext("API key %(key)s revoked: it is refused from now on.") % {"key": api_key},
                          messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:orders_apikey_change", args=[quote(api_key.pk)]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.revoked_at is None and self.has_change_permission(request, obj):
            context["revoke_url"] = reverse("admin:orders_apikey_revoke", args=[quote(obj.pk)])
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    change_form_template = "admin/orders/apikey/change_form.html"


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    max_num = 0
    fields = ("delivery_link", "resource_type", "resource_url", "status", "attempts", "error_text", "sent_at",
              "created_at")
    readonly_fields = fields
    ordering = ("-created_at", "-id")

    @admin.display(description=_("error"))
    def error_text(self, obj):
        return translated(obj.error)

    @admin.display(description=_("delivery"))
    def delivery_link(self, obj):
        if obj.pk is None:
            return ""  # the inline's empty row
        url = reverse("admin:orders_webhookdelivery_change", args=[quote(obj.pk)])
        return format_html('<a href="{}">{}</a>', url, obj.pk)


class WebhookSubscriptionForm(forms.ModelForm):
    """The subscription's target and store checked like the API's subscribe (egress policy, the
    merchant's own store, SHIPBRIDGE_SITE_URL set)."""

    class Meta:
        model = WebhookSubscription
        fields = ["merchant", "event", "target_url", "store", "friendly_name", "active"]

    def clean(self):
        cleaned = super().clean()
        merchant_id = self.instance.merchant_id or getattr(cleaned.get("merchant"), "pk", None)
        if merchant_id and cleaned.get("target_url") and cleaned.get("event"):
            store = cleaned.get("store")
            try:
                subscription_check(merchant=Merchant.objects.get(pk=merchant_id), event=cleaned["event"],
                                   target_url=cleaned["target_url"], store=store.pk if store else None)
            except WebhookError as exc:
                raise forms.ValidationError(as_sentence(translated(exc))) from None
        return cleaned


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(MerchantScopedAdmin):
    form = WebhookSubscriptionForm
    list_display = ("__str__", "event", "target_url", "store", "merchant", "active", "created_at")
    list_filter = ("event", "active", "merchant")
    search_fields = ("friendly_name", "target_url")
    list_select_related = ("merchant", "store")
    inlines = [WebhookDeliveryInline]

    def get_fields(self, request, obj=None):
        fields = ["merchant", "event", "target_url", "store", "friendly_name", "active"]
        return fields if obj is None else [*fields, "signing_secret", "created_at", "api_key"]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("merchant", "signing_secret", "created_at", "api_key")

    @admin.display(description=_("signing secret"))
    def signing_secret(self, obj):
        """For the receiver's check of X-ShipBridge-Signature (see the README)."""
        return subscription_secret(obj)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        merchant_id = user_merchant_id(request) or obj.merchant_id
        made = subscription_create(merchant=Merchant.objects.get(pk=merchant_id), event=obj.event,
                                   target_url=obj.target_url, store=obj.store_id, friendly_name=obj.friendly_name)
        obj.pk, obj.encrypted_secret, obj.created_at = (made.subscription.pk, made.subscription.encrypted_secret,
                                                        made.subscription.created_at)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    max_num = 0
    fields = ("number", "started_at", "finished_at", "outcome", "response_code", "response_body", "message_text")
    readonly_fields = fields

    @admin.display(description=_("message"))
    def message_text(self, obj):
        return translated(obj.message)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(MerchantScopedAdmin):
    list_display = ("pk", "subscription", "resource_type", "status", "attempts", "error_text", "sent_at", "created_at")
    list_filter = ("status", "resource_type")
    list_select_related = ("subscription",)
    search_fields = ("resource_url", "error", "subscription__target_url")
    readonly_fields = ("subscription", "batch", "resource_type", "resource_url", "status", "attempts", "error_text",
                       "next_attempt_at", "sent_at", "created_at", "updated_at")
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["resend"]
    change_form_template = "admin/orders/webhookdelivery/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("error"))
    def error_text(self, obj):
        return translated(obj.error)

    def _resend(self, request, deliveries) -> None:
        sent, refused = 0, []
        for delivery in deliveries:
            try:
                delivery_resend(delivery=delivery)
                sent += 1
            except WebhookError as exc:
                refused.append(as_sentence(translated(exc)))
        if sent:
            self.message_user(request, ngettext("%(count)d webhook delivery queued again.",
                                                "%(count)d webhook deliveries queued again.", sent) % {"count": sent},
                              messages.SUCCESS)
        for words in refused:
            self.message_user(request, words, messages.WARNING)

    @admin.action(description=_("Resend the selected webhook deliveries"), permissions=["change"])
    def resend(self, request, queryset):
        self._resend(request, list(queryset.order_by("pk")))

    def get_urls(self):
        return [path("<path:object_id>/resend/", self.admin_site.admin_view(self.resend_view),
                     name="orders_webhookdelivery_resend"), *super().get_urls()]

    def resend_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        delivery = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, delivery):
            raise PermissionDenied
        self._resend(request, [delivery])
        return HttpResponseRedirect(reverse("admin:orders_webhookdelivery_change", args=[quote(delivery.pk)]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.status != DeliveryStatus.PENDING and self.has_change_permission(request, obj):
            context["resend_url"] = reverse("admin:orders_webhookdelivery_resend", args=[quote(obj.pk)])
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(WebhookBatch)
class WebhookBatchAdmin(MerchantScopedAdmin):
    """What one webhook event brought: the orders of an import run, or shipments made together
    (read-only: written by the import and shipping services)."""

    list_display = ("pk", "kind", "store", "import_run", "created_at")
    list_filter = ("kind",)
    list_select_related = ("store", "import_run", "import_run__store")
    readonly_fields = ("kind", "store", "token", "import_run", "orders", "shipments", "created_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
