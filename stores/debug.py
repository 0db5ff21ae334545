"""Store secrets kept out of error pages and error reports.

Django hides what `sensitive_variables` / `sensitive_post_parameters` mark only when DEBUG is
off (its filter stands down in development). The pages that handle store secrets make it apply
whatever DEBUG says: a development server's error page never shows a typed or decrypted
password either.
"""
from __future__ import annotations

from functools import wraps

from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.debug import sensitive_post_parameters


class SecretsFilter(SafeExceptionReporterFilter):
    """Django's filter, active with DEBUG on too: the variables and POST parameters marked
    sensitive are starred on every error page and report."""

    def is_active(self, request):
        return True


def secrets_filtered(request) -> None:
    """Errors raised while handling `request` are reported through SecretsFilter."""
    request.exception_reporter_filter = SecretsFilter()


def hides_secrets(*post_parameters: str):
    """A view decorator for pages that take store secrets: those POST parameters (all of them
    when none is named) are starred in error reports, and Django's filter applies even with
    DEBUG on (to them, and to the variables marked with `sensitive_variables`)."""

    def decorator(view):
        @sensitive_post_parameters(*post_parameters)
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            secrets_filtered(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
