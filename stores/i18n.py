"""ShipBridge in several languages: the languages, a store's language for its customers'
documents, and messages kept in English and shown in the reader's language.

Two kinds of text:

- Text made while someone reads it (forms, pages, commands): marked with `gettext` /
  `gettext_lazy` and made in the active language.
- Text kept and shown later — an import's error and skip reasons, a connection test's outcome,
  a notification's warning and advice, what a correction told the store — is written in
  English: its template is marked with `gettext_noop` and filled with `.format(...)`. Whoever
  shows it passes it through `translated()` (the `translated` template filter), which finds the
  template in the active language's catalogue and fills the translation with the same values.
  A worker, a command and a page thus keep the same English text in the database, and each
  reader sees it in their own language; the store's own words (a refusal, an error reply) are
  never translated.
"""
from __future__ import annotations

import re
import string
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    """The languages ShipBridge speaks (settings.LANGUAGES), for a user's interface and a
    store's customer documents."""

    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")


DEFAULT_LANGUAGE = Language.ENGLISH


@contextmanager
def store_language(store):
    """Customer documents of `store` (its shipment e-mail, its packing slips) in the store's
    language, whatever the reader's: `with store_language(store): render(...)`."""
    with translation.override(getattr(store, "language", "") or DEFAULT_LANGUAGE):
        yield


# --- messages kept in English, shown translated ---------------------------------------------

# Values that are messages themselves (a reason inside a sentence, a noun phrase such as
# "the store"): translated in their turn. Any other value (a number, a status, the store's own
# words) is shown as it was written.
TRANSLATED_VALUES = frozenset({"what", "reason", "error", "problem", "problems", "detail", "hint", "kind",
                               "where", "advice", "when", "account", "state", "label", "field", "kept",
                               "value"})
# Values that list messages, and how they are joined ("street, city"): each one translated.
TRANSLATED_LISTS = {"fields": ", ", "sent": ", ", "values": " and "}
# A template needs this many letters outside its placeholders to be recognised: "{a}: {b}"
# would match anything.
MIN_LETTERS = 4
MAX_DEPTH = 4
# How composed messages are joined, and how many times at most: each part is translated on its
# own when the whole is not a template ("this; that", "what: why").
SEPARATORS = (("; ", -1), (": ", 1))

_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class _Template:
    msgid: str
    pattern: re.Pattern
    names: tuple[str, ...]  # the placeholder of each group, in order
    anchor: str  # its longest literal piece: a quick test before the pattern
    letters: int


def _compile(msgid: str) -> _Template | None:
    try:
        pieces = list(string.Formatter().parse(msgid))
    except ValueError:
        return None
    regex, names, literals = [], [], []
    for literal, name, _spec, _conversion in pieces:
        regex.append(re.escape(literal))
        literals.append(literal)
        if name is not None:
            if not name.isidentifier():
                return None
            regex.append("(.+?)")
            names.append(name)
    if not names:
        return None
    letters = sum(len(_LETTER.findall(literal)) for literal in literals)
    if letters < MIN_LETTERS:
        return None
    return _Template(msgid=msgid, pattern=re.compile("".join(regex), re.DOTALL), names=tuple(names),
                     anchor=max(literals, key=len), letters=letters)


def _catalogue(language: str):
    """The translation object of `language` (Django's, every app and LOCALE_PATHS merged)."""
    from django.utils.translation import trans_real

    return trans_real.translation(language)


@lru_cache(maxsize=8)
def _templates(language: str, catalogue_id: int) -> tuple[_Template, ...]:
    """The active catalogue's messages with placeholders, the most specific first."""
    catalog = getattr(_catalogue(language), "_catalog", None)
    keys = catalog.keys() if catalog is not None else ()
    compiled = [t for t in (_compile(k) for k in keys if isinstance(k, str) and "{" in k) if t is not None]
    compiled.sort(key=lambda t: (-t.letters, t.msgid))
    return tuple(compiled)


def _fill(translation_text: str, values: dict[str, str]) -> str | None:
    try:
        pieces = list(string.Formatter().parse(translation_text))
    except ValueError:
        return None
    out = []
    for literal, name, _spec, _conversion in pieces:
        out.append(literal)
        if name is not None:
            if name not in values:
                return None
            out.append(values[name])
    return "".join(out)


def translated(text, *, _depth: int = 0) -> str:
    """`text` — a message kept in English (see the module's docstring) — in the active
    language. Text that is no known message (the store's own words, a message already
    translated) comes back as it is."""
    text = "" if text is None else str(text)
    language = translation.get_language() or ""
    if not text.strip() or not language or language.split("-")[0] == "en" or _depth > MAX_DEPTH:
        return text
    exact = translation.gettext(text)
    if exact != text:
        return exact
    catalogue = _catalogue(language)
    for template in _templates(language, id(getattr(catalogue, "_catalog", None))):
        if template.anchor not in text:
            continue
        match = template.pattern.fullmatch(text)
        if match is None:
            continue
        values = {}
        for name, value in zip(template.names, match.groups()):
            if name in values:
                continue
            if name in TRANSLATED_VALUES:
                value = translated(value, _depth=_depth + 1)
            elif name in TRANSLATED_LISTS:
                joint = TRANSLATED_LISTS[name]
                value = translation.gettext(joint).join(translated(item, _depth=_depth + 1)
                                                        for item in value.split(joint))
            values[name] = value
        filled = _fill(translation.gettext(template.msgid), values)
        if filled is not None:
            return filled
    for separator, most in SEPARATORS:
        if separator in text:
            parts = text.split(separator, most)
            done = [translated(part, _depth=_depth + 1) for part in parts]
            if done != parts:
                return separator.join(done)
    return text


# --- amounts ----------------------------------------------------------------------------------

# The symbols readers know; any other currency is written with its ISO code.
CURRENCY_SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "MXN": "$", "EUR": "€", "GBP": "£",
                    "JPY": "¥", "CNY": "¥", "INR": "₹"}
NBSP = "\xa0"


def format_amount(amount, currency: str = "") -> str:
    """An amount of money as the active language writes it: "$1,234.56" / "CHF 1,234.56" in
    English, "1 234,56 $" / "1 234,56 CHF" in French (Django's separators and grouping of the
    language, the symbol after the number in French). "" for no amount."""
    from django.utils.formats import number_format

    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        return str(amount)
    number = number_format(abs(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    code = (currency or "").strip().upper()
    symbol = CURRENCY_SYMBOLS.get(code, code)
    language = (translation.get_language() or DEFAULT_LANGUAGE).split("-")[0]
    if not symbol:
        text = number
    elif language == Language.FRENCH:
        text = f"{number}{NBSP}{symbol}"
    elif symbol == code:
        text = f"{code}{NBSP}{number}"
    else:
        text = f"{symbol}{number}"
    return f"-{text}" if value < 0 else text


def format_number(value, decimals: int | None = None) -> str:
    """A number with the active language's separators and thousands grouped ("1 234,5")."""
    from django.utils.formats import number_format

    if value is None or value == "":
        return ""
    return number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)
