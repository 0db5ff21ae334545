"""ShipStation's rate limit: SHIPBRIDGE_API_RATE_LIMIT requests a minute per API key, counted in
the shared cache (Redis in production, a database table in the embedded run) so every web process
counts the same requests. The minute is a fixed window from the top of each minute (UTC).

Every reply to a key says X-Rate-Limit-Limit (the limit), X-Rate-Limit-Remaining (requests
left in this window) and X-Rate-Limit-Reset (seconds until the window ends); past the limit the
request is answered 429 (with Retry-After) and not run."""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {"X-Rate-Limit-Limit": str(self.limit), "X-Rate-Limit-Remaining": str(self.remaining),
                "X-Rate-Limit-Reset": str(self.reset)}


def count_request(key: str, *, now: float | None = None) -> RateState:
    """Count one request of API key `key` in the current window."""
    limit = settings.SHIPBRIDGE_API_RATE_LIMIT
    now = time.time() if now is None else now
    window = int(now // WINDOW_SECONDS)
    reset = max(1, int((window + 1) * WINDOW_SECONDS - now))
    cache_key = f"shipbridge:api-rate:{key}:{window}"
    # incr() counts atomically where the cache can (Redis); the window's first request adds the key
    try:
        used = cache.incr(cache_key)
    except ValueError:  # not there yet: this request opens the window (or another process just did)
        used = 1 if cache.add(cache_key, 1, timeout=WINDOW_SECONDS + 5) else cache.incr(cache_key)
    return RateState(limit=limit, remaining=max(0, limit - used), reset=reset, allowed=used <= limit)
