"""The ShipStation-compatible REST API under /api/v1/: ShipStation API v1's paths, parameters,
field names (camelCase), value formats, paging and error bodies, so a client written against
ShipStation works with ShipBridge given another base URL and key.

Views parse and format (serializers.py, filters.py), read through selectors.py and write through
the services (orders/manual.py, orders/shipping.py, orders/importing.py, orders/webhooks.py).
Requests authenticate with an API key (authentication.py) and are counted per key
(ratelimit.py); errors are ShipStation's bodies (errors.py)."""
