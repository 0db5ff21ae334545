"""ShipStation's value formats. Dates are written without an offset, with seven fraction digits
("2015-06-29T08:46:27.0000000"), in SHIPBRIDGE_API_TIMEZONE; dates given in filters and bodies
may be a day ("2015-06-29"), a day and time ("2015-06-29 08:46:27", "2015-06-29T08:46:27.123"),
in that zone, or carry their own offset ("...Z", "...+02:00")."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


class DateError(ValueError):
    """A date ShipBridge cannot read; the message names the expected forms."""


def api_zone() -> ZoneInfo:
    return ZoneInfo(settings.SHIPBRIDGE_API_TIMEZONE)


def format_datetime(value: dt.datetime | None) -> str | None:
    """"2015-06-29T08:46:27.0000000": the moment in the API's zone, no offset (None stays None)."""
    if value is None:
        return None
    local = timezone.localtime(value, api_zone()) if timezone.is_aware(value) else value
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0"


def format_day(value: dt.date | None) -> str | None:
    """A day as ShipStation writes shipDate: "2015-07-02"."""
    return value.isoformat() if value is not None else None


def format_day_as_datetime(value: dt.date | None) -> str | None:
    """A day where ShipStation writes a timestamp (shipByDate): "2015-07-05T00:00:00.0000000"."""
    return f"{value.isoformat()}T00:00:00.0000000" if value is not None else None


def parse_datetime(text: str, *, what: str = "the date") -> dt.datetime:
    """An aware datetime from the forms above; a value without an offset is in the API's zone."""
    raw = str(text).strip()
    if not raw:
        raise DateError(f"{what} is empty")
    value = raw.replace(" ", "T", 1) if len(raw) > 10 and raw[10] == " " else raw
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:  # .NET writes 7 fraction digits; Python reads at most 6
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}" if digits else head + rest
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DateError(f"{what} {raw!r} is not a date: use 2015-06-29, 2015-06-29 08:46:27 or "
                        "2015-06-29T08:46:27.0000000") from None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=api_zone())
    return parsed


def parse_day(text: str, *, what: str = "the date") -> dt.date:
    """A day: "2014-04-01", or the day of a timestamp in the API's zone."""
    raw = str(text).strip()
    if len(raw) == 10:
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise DateError(f"{what} {raw!r} is not a date: use 2014-04-01") from None
    return timezone.localtime(parse_datetime(raw, what=what), api_zone()).date()
