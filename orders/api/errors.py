"""ShipStation's error bodies (ASP.NET Web API's): every error of the API is JSON with a
"Message", like ShipStation's, and never a traceback.

- 400, a field refused: {"Message": "The request is invalid.", "ModelState": {"orderId": ["..."]}}
- 400, an action refused (ship a cancelled order...): {"Message": "An error has occurred.",
  "ExceptionMessage": "order 1001 is cancelled: it cannot be shipped", "ExceptionType":
  "ShipBridge.ShippingError", "StackTrace": null}
- 401: {"Message": "Authorization has been denied for this request."} (+ WWW-Authenticate: Basic)
- 404: {"Message": "..."}; a path the API has not, or a call ShipBridge cannot honour (labels,
  rates): {"Message": "No HTTP resource was found that matches the request URI '...'.",
  "MessageDetail": why, and what to do instead}
- 405: {"Message": "The requested resource does not support http method 'PUT'."}
- 429: {"Message": "Too Many Requests", "ExceptionMessage": "..."} (rate-limit headers set)
- 500: {"Message": "An error has occurred."} (the details go to the log only)"""
from __future__ import annotations

import logging

from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .authentication import REALM

log = logging.getLogger("shipbridge.api")

INVALID = "The request is invalid."
AN_ERROR = "An error has occurred."
DENIED = "Authorization has been denied for this request."


class ApiRefusal(exceptions.APIException):
    """An action the services refused (the message is theirs: one line a person can act on)."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, kind: str = "ShipBridge.InputError", status_code: int | None = None):
        super().__init__(message)
        self.kind = kind
        if status_code is not None:
            self.status_code = status_code


class NotFoundHere(exceptions.NotFound):
    """Another merchant's id, or none at all: the same 404 (nothing tells them apart)."""


class RateLimited(exceptions.Throttled):
    """Past SHIPBRIDGE_API_RATE_LIMIT requests this minute."""


def not_found_body(uri: str, detail: str = "") -> dict:
    body = {"Message": f"No HTTP resource was found that matches the request URI '{uri}'."}
    if detail:
        body["MessageDetail"] = detail
    return body


def _model_state(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as ASP.NET's flat ModelState ("shipTo.country": [...])."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            flat.update(_model_state(value, f"{prefix}.{name}".strip(".") if name else prefix))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            flat.setdefault(prefix or "request", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                flat.update(_model_state(item, f"{prefix}[{index}]"))
    else:
        flat.setdefault(prefix or "request", []).append(str(detail))
    return flat


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = NotFoundHere()
    if isinstance(exc, ApiRefusal):
        body = {"Message": AN_ERROR, "ExceptionMessage": str(exc.detail), "ExceptionType": exc.kind,
                "StackTrace": None}
        return Response(body, status=exc.status_code)
    if isinstance(exc, exceptions.ValidationError):
        return Response({"Message": INVALID, "ModelState": _model_state(exc.detail)}, status=400)
    if isinstance(exc, exceptions.ParseError):
        return Response({"Message": INVALID, "ExceptionMessage": str(exc.detail)}, status=400)
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        return Response({"Message": DENIED}, status=401, headers={"WWW-Authenticate": REALM})
    if isinstance(exc, exceptions.MethodNotAllowed):
        method = request.method if request is not None else "?"
        return Response({"Message": f"The requested resource does not support http method '{method}'."},
                        status=405)
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 0)
        return Response({"Message": "Too Many Requests",
                         "ExceptionMessage": f"More than the API key's limit of requests a minute: try again in "
                                             f"{wait} seconds."}, status=429)
    if isinstance(exc, exceptions.NotFound):
        return Response({"Message": str(exc.detail)}, status=404)
    if isinstance(exc, exceptions.APIException):
        response = drf_exception_handler(exc, context)
        if response is not None:
            response.data = {"Message": str(exc.detail)}
        return response
    log.exception("API request failed: %s %s", getattr(request, "method", "?"), getattr(request, "path", "?"))
    return Response({"Message": AN_ERROR}, status=500)
