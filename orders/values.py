"""Values people type (admin forms, commands, the services' arguments), checked alike
everywhere: each check raises the caller's error class with one line naming what is wrong, in
the active language (`what` is given in it too)."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext

MONEY_LIMIT = Decimal("10000000000")  # the amount columns: 12 digits, 2 of them decimals


def clean_text(value, *, what: str, max_length: int | None = None, error: type[Exception] = ValueError) -> str:
    """The text with its white space collapsed; refused when longer than `max_length`."""
    text = " ".join(str(value or "").split())
    if max_length is not None and len(text) > max_length:
        raise error(gettext("the {what} is too long ({length} characters, at most {limit})").format(
            what=what, length=len(text), limit=max_length))
    return text


def clean_money(value, *, what: str, error: type[Exception] = ValueError) -> Decimal | None:
    """An amount of zero or more, to the cent; None when not given."""
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise error(gettext("the {what} must be a number (got {value})").format(what=what, value=repr(value))) from None
    if not amount.is_finite() or amount < 0:
        raise error(gettext("the {what} must be zero or more (got {value})").format(what=what, value=value))
    if amount >= MONEY_LIMIT:
        raise error(gettext("the {what} is too large ({value})").format(what=what, value=value))
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
