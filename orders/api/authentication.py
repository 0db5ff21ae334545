"""HTTP Basic with an API key, as ShipStation's: the key as user name, the secret as password.
The request's user is an ApiClient standing for the key's merchant (never a ShipBridge login)."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from orders.apikeys import api_key_check
from orders.models import ApiKey



REALM = 'Basic realm="ShipBridge API"'


@dataclass(frozen=True)
class ApiClient:
    """Who calls: an API key, and through it its merchant."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    pk = None  # not a User: services record no user for API actions

    @property
    def merchant(self):
        return self.api_key.merchant

    @property
    def merchant_id(self) -> int:
        return self.api_key.merchant_id

    def get_username(self) -> str:
        return f"API key {self.api_key.key[:8]}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None  # no credentials: NotAuthenticated (401) from the permission check
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("malformed Authorization header")
        try:
            user, _, secret = base64.b64decode(header[1], validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise exceptions.AuthenticationFailed("malformed Authorization header") from None
        api_key = api_key_check(key=user.strip(), secret=secret.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("unknown or revoked API key, or wrong secret")
        return ApiClient(api_key), api_key

    def authenticate_header(self, request) -> str:
        return REALM


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OpenAPI document's word for it: HTTP Basic."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic",
                "description": "The API key as user name, its secret as password."}
