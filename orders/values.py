"""Values people type (admin forms, commands, the services' arguments), checked alike
everywhere: each check raises the caller's error class with one line naming what is wrong."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MONEY_LIMIT = Decimal("10000000000")  # the amount columns: 12 digits, 2 of them decimals


def clean_text(value, *, what: str, max_length: int | None = None, error: type[Exception] = ValueError) -> str:
    """The text with its white space collapsed; refused when longer than `max_length`."""
    text = " ".join(str(value or "").split())
    if max_length is not None and len(text) > max_length:
        raise error(f"the {what} is too long ({len(text)} characters, at most {max_length})")
    return text


def clean_money(value, *, what: str, error: type[Exception] = ValueError) -> Decimal | None:
    """An amount of zero or more, to the cent; None when not given."""
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise error(f"the {what} must be a number (got {value!r})") from None
    if not amount.is_finite() or amount < 0:
        raise error(f"the {what} must be zero or more (got {value})")
    if amount >= MONEY_LIMIT:
        raise error(f"the {what} is too large ({value})")
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
