"""Shared helpers for ShipBridge's operator commands."""
import json

from django.core.management.base import CommandError

from stores.models import Store


def parse_pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    pairs = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{flag} expects KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def get_store(store_id) -> Store:
    try:
        return Store.objects.select_related("merchant").get(pk=int(store_id))
    except (ValueError, Store.DoesNotExist):
        raise CommandError(f"no store with id {store_id!r}") from None


def json_line(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=False, default=str)
