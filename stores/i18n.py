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

import gettext as gettext_module
import re
import string
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
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


def render_for_customers(request, template_name: str, context: dict, *, store):
    """A page for `store`'s customers (a packing slip) rendered in the store's language. (A
    TemplateResponse renders after the view has returned, outside any `with store_language`:
    this one is rendered here.)"""
    from django.template.response import TemplateResponse

    with store_language(store):
        return TemplateResponse(request, template_name, context).render()


# --- messages kept in English, shown translated ---------------------------------------------

# Values that are messages themselves (a reason inside a sentence, a noun phrase such as
# "the store"): translated in their turn. Any other value (a number, a status, the store's own
# words) is shown as it was written.
TRANSLATED_VALUES = frozenset({"what", "reason", "error", "problem", "problems", "detail", "hint", "kind",
                               "where", "advice", "when", "account", "state", "label", "field", "kept",
                               "value"})
# Values that list messages, and how they are joined ("street, city"): each one translated.
TRANSLATED_LISTS = {"fields": ", ", "sent": ", ", "values": " and "}
# Values that may be whole sentences (the store's words, a reason, a location in a reply); any
# other value (a number, a name, a status) holds no "; " or ": ", which join messages.
FREE_TEXT = frozenset({"words", "error", "reason", "problem", "problems", "detail", "message", "advice", "kept",
                       "sent", "values", "where", "what", "text", "title", "request", "items", "fields",
                       "statuses"})
_JOINS = ("; ", ": ")
# How the languages write those joins (French typography: a no-break space before ";" and ":").
JOINS_BY_LANGUAGE = {"fr": {"; ": "\u00a0; ", ": ": "\u00a0: "}}
# Letters a template needs outside its placeholders to be recognised: in a whole message, and
# in a part of one (a value, one side of a "; "). Short templates ("shipment {number}") name a
# part only; as a whole message they could match the start of a store's own words.
MIN_LETTERS = 9
MIN_LETTERS_IN_PART = 4
MAX_DEPTH = 4

_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class _Template:
    msgid: str
    pattern: re.Pattern
    names: tuple[str, ...]  # the placeholder of each group, in order
    anchor: str  # its longest literal piece: a quick test before the pattern
    letters: int
    # How specific it is: ending on words rather than on a placeholder, more words, more text
    rank: tuple


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
    letters = sum(len(_LETTER.findall(literal)) for literal in literals)
    if not names or letters < MIN_LETTERS_IN_PART:
        return None
    open_end = pieces[-1][1] is not None
    return _Template(msgid=msgid, pattern=re.compile("".join(regex), re.DOTALL), names=tuple(names),
                     anchor=max(literals, key=len), letters=letters,
                     rank=(open_end, -letters, -sum(len(literal) for literal in literals), msgid))


class _Catalogue:
    """ShipBridge's own catalogue of one language (LOCALE_PATHS: not Django's nor other apps':
    a store answering "Forbidden" is quoted, not translated), and its templates, the most
    specific first."""

    def __init__(self, language: str):
        from django.conf import settings

        self.translation = gettext_module.translation("django", localedir=str(settings.LOCALE_PATHS[0]),
                                                      languages=[language], fallback=True)
        keys = getattr(self.translation, "_catalog", {}).keys()  # (GNUTranslations: msgid → msgstr)
        compiled = [t for t in (_compile(k) for k in keys if isinstance(k, str) and "{" in k) if t is not None]
        compiled.sort(key=lambda t: t.rank)
        self.templates = tuple(compiled)

    def gettext(self, msgid: str) -> str:
        return self.translation.gettext(msgid)


@lru_cache(maxsize=8)
def _catalogue(language: str) -> _Catalogue:
    return _Catalogue(language)


@receiver(setting_changed)
def _catalogues_changed(*, setting, **kwargs):
    """Catalogues read again when LOCALE_PATHS changes (as Django's own are)."""
    if setting in ("LOCALE_PATHS", "LANGUAGES"):
        _catalogue.cache_clear()
        _translated_in.cache_clear()


def translated(text) -> str:
    """`text` — a message kept in English (see the module's docstring) — in the active
    language. Text that is no known message (the store's own words, a message already
    translated) comes back as it is."""
    text = "" if text is None else str(text)
    language = translation.get_language() or ""
    if not text.strip() or not language or language.split("-")[0] == "en":
        return text
    return _translated_in(language, text)


@lru_cache(maxsize=4096)  # a page shows the same reason for many skipped orders
def _translated_in(language: str, text: str) -> str:
    return _translate(text, language=language, depth=0)


def _translate(text: str, *, language: str, depth: int) -> str:
    if not text.strip() or depth > MAX_DEPTH:
        return text
    catalogue = _catalogue(translation.to_locale(language))
    exact = catalogue.gettext(text)
    if exact != text:
        return exact
    least = MIN_LETTERS if depth == 0 else MIN_LETTERS_IN_PART
    for template in catalogue.templates:
        if template.letters < least or template.anchor not in text:
            continue
        match = template.pattern.fullmatch(text)
        if match is None or any(join in value for name, value in zip(template.names, match.groups())
                                if name not in FREE_TEXT for join in _JOINS):
            continue
        filled = _fill(catalogue.gettext(template.msgid), _values(catalogue, template, match, language, depth))
        if filled is not None:
            return filled
    # A message made of messages: "this; that" (each part), "where: what" (where is one)
    joins = JOINS_BY_LANGUAGE.get(language.split("-")[0], {})
    if "; " in text:
        parts = text.split("; ")
        done = [_translate(part, language=language, depth=depth + 1) for part in parts]
        if done != parts:
            return joins.get("; ", "; ").join(done)
    if ": " in text:
        head, tail = text.split(": ", 1)
        done = _translate(head, language=language, depth=depth + 1)
        if done != head:
            return done + joins.get(": ", ": ") + _translate(tail, language=language, depth=depth + 1)
    return text


def _values(catalogue: _Catalogue, template: _Template, match: re.Match, language: str,
            depth: int) -> dict[str, str]:
    values = {}
    for name, value in zip(template.names, match.groups()):
        if name in values:
            continue
        if name in TRANSLATED_VALUES:
            value = _translate(value, language=language, depth=depth + 1)
        elif name in TRANSLATED_LISTS:
            joint = TRANSLATED_LISTS[name]
            value = catalogue.gettext(joint).join(_translate(item, language=language, depth=depth + 1)
                                                  for item in value.split(joint))
        values[name] = value
    return values


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
