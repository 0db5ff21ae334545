"""The interface language: the browser's (Django's LocaleMiddleware, which also reads the
choice made before logging in, kept in a cookie), unless the signed-in user chose one with the
switch in the header, which their account remembers (stores.User.language) on every device.

The switch posts to `set_language` (shipbridge/urls.py); templates show it with
`{% load shipbridge_i18n %}{% language_switch %}`.

The ShipStation-compatible API (/api/, shipbridge/urls.py) answers in English whatever the
caller's Accept-Language: its messages and errors are ShipStation's contract, read by programs."""
from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from stores.services import user_language_set


# The API's paths (shipbridge/urls.py): always in the default language (English).
API_PREFIX = "/api/"


class UserLanguageMiddleware:
    """After the session's user is known: the language their account remembers, if any, in
    place of the browser's; the API's default language, whatever the caller's."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
            return self.get_response(request)
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if language in self.supported:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


@require_POST
def set_language(request):
    """Django's set_language (the cookie, the redirect to `next` on this site), and for a
    signed-in user the choice kept on their account."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in {code for code, _name in settings.LANGUAGES}:
        user_language_set(user=request.user, language=language)
    return response
