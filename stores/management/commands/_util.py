"""Shared helpers for ShipBridge's operator commands."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext

from stores.models import Store


def parse_pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    pairs = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(gettext("{flag} expects KEY=VALUE, got {value}").format(flag=flag, value=repr(item)))
        pairs[key.strip()] = value.strip()
    return pairs


def get_store(store_id) -> Store:
    try:
        return Store.objects.select_related("merchant").get(pk=int(store_id))
    except (ValueError, Store.DoesNotExist):
        raise CommandError(gettext("no store with id {id}").format(id=repr(store_id))) from None


def json_line(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=False, default=str)


class ShipBridgeCommand(BaseCommand):
    """A command whose help (marked for translation, lazy) is shown in the active language:
    argparse takes plain text only."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)
