"""Where a login attempt comes from, for django-axes' lockout by username and address."""
from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless SHIPBRIDGE_TRUSTED_PROXIES reverse proxies stand
    in front of ShipBridge. Each of them appends the address it got the request from to
    X-Forwarded-For, so with N of them the client is the N-th entry from the right; entries
    further left were sent by the client and prove nothing. A header with fewer entries than
    that (the request did not come through the proxies) or an entry that is not an IP address
    falls back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.SHIPBRIDGE_TRUSTED_PROXIES
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote
