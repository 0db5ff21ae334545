"""Template helpers for ShipBridge in several languages: `{% load shipbridge_i18n %}`.

- `{{ run.error|translated }}`: a message kept in English (an import's error or skip reason, a
  notification's warning or advice, a connection test's outcome) in the reader's language;
- `{{ order.order_total|currency:order.currency }}`: "$1,234.56", "1 234,56 $";
- `{{ count|grouped }}`, `{{ weight|grouped:3 }}`: a number with the language's separators;
- `{% language_switch %}`: the header's English / Français switch (remembered per user).
"""
from django import template
from django.conf import settings
from django.utils import translation

from stores.i18n import format_amount, format_number, translated as translated_message

register = template.Library()


@register.filter
def translated(value):
    return translated_message(value)


@register.filter
def currency(value, code=""):
    return format_amount(value, code or "")


@register.filter
def grouped(value, decimals=None):
    return format_number(value, None if decimals in (None, "") else int(decimals))


@register.inclusion_tag("shipbridge/language_switch.html", takes_context=True)
def language_switch(context):
    """Each language named in itself (settings.LANGUAGES), the current one marked; choosing one
    comes back to this page."""
    request = context.get("request")
    return {
        "languages": settings.LANGUAGES,
        "current": translation.get_language(),
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }
