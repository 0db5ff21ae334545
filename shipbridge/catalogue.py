"""ShipBridge's message catalogues (locale/<lang>/LC_MESSAGES/django.po, LOCALE_PATHS): compiling
them (the install does; the .mo files are not committed) and checking them — every string
marked in the source is in each catalogue, translated, none fuzzy, and the catalogues compile.
`scripts/test` runs the check (tests/test_i18n.py). Needs GNU gettext (msgfmt, xgettext,
msgmerge, msgattrib: Debian's `gettext` package)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

# What makemessages reads: ShipBridge's own code and templates (not the tests, the benchmarks,
# the scripts, installed packages or var/).
SOURCES = ("shipbridge", "stores", "orders", "templates")
MAKEMESSAGES_OPTIONS = {"add_location": "file"}


def root() -> Path:
    return Path(settings.BASE_DIR)


def catalogues(locale_dir: Path | None = None) -> list[Path]:
    locale_dir = Path(locale_dir or settings.LOCALE_PATHS[0])
    return sorted(locale_dir.glob("*/LC_MESSAGES/django.po"))


def compile_catalogues(*, locale_dir: Path | None = None, only_stale: bool = False) -> list[Path]:
    """msgfmt --check-format every catalogue of `locale_dir` (default LOCALE_PATHS) into its
    .mo (with `only_stale`, those whose .mo is missing or older). Returns those compiled;
    raises CommandError when one does not compile."""
    locale_dir = Path(locale_dir or settings.LOCALE_PATHS[0])
    stale = [po for po in catalogues(locale_dir)
             if not only_stale or not po.with_suffix(".mo").exists()
             or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
    languages = sorted({po.parent.parent.name for po in stale})
    if languages:
        with _inside(locale_dir.parent), override_settings(LOCALE_PATHS=[locale_dir]):
            # ignore every sub-directory: only LOCALE_PATHS is compiled, never an installed package's
            call_command("compilemessages", locale=languages, ignore_patterns=["*"], verbosity=0)
    return stale


@dataclass
class CatalogueReport:
    """What is wrong with one language's catalogue (nothing: `ok`)."""

    language: str
    missing: list[str] = field(default_factory=list)  # marked in the source, not in the catalogue
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)  # in the catalogue, no longer in the source

    @property
    def ok(self) -> bool:
        return not (self.missing or self.untranslated or self.fuzzy or self.obsolete)


def check_catalogues(*, sources: list[Path] | None = None) -> list[CatalogueReport]:
    """Run makemessages over a copy of the sources (default: SOURCES of the project) and the
    committed catalogues, then read what changed: a string makemessages had to add is missing;
    an entry left empty, fuzzy or obsolete is reported too. The copy is compiled as well
    (CommandError if it does not)."""
    reports = []
    with tempfile.TemporaryDirectory(prefix="shipbridge-catalogue-") as tmp:
        copy = Path(tmp)
        for source in sources if sources is not None else [root() / name for name in SOURCES]:
            shutil.copytree(source, copy / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        locale_dir = copy / "locale"
        shutil.copytree(Path(settings.LOCALE_PATHS[0]), locale_dir, ignore=shutil.ignore_patterns("*.mo"))
        committed = {po.parent.parent.name: _msgids(po.read_text(encoding="utf-8")) for po in catalogues(locale_dir)}
        with _inside(copy), override_settings(LOCALE_PATHS=[locale_dir]):
            call_command("makemessages", locale=sorted(committed), verbosity=0, **MAKEMESSAGES_OPTIONS)
        compile_catalogues(locale_dir=locale_dir)
        for po in catalogues(locale_dir):
            language = po.parent.parent.name
            text = po.read_text(encoding="utf-8")
            report = CatalogueReport(language=language)
            report.missing = sorted(_msgids(text) - committed[language])
            report.untranslated = _msgids(_msgattrib(po, "--untranslated", "--no-obsolete"), header=False)
            report.fuzzy = _msgids(_msgattrib(po, "--only-fuzzy", "--no-obsolete"), header=False)
            report.obsolete = _msgids(_msgattrib(po, "--only-obsolete"), obsolete=True)
            report.untranslated = sorted(report.untranslated - set(report.missing))
            report.fuzzy = sorted(report.fuzzy - set(report.missing))
            report.obsolete = sorted(report.obsolete)
            reports.append(report)
    return reports


@contextmanager
def _inside(path: Path):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _msgattrib(po: Path, *options: str) -> str:
    return subprocess.run(["msgattrib", *options, str(po)], check=True, capture_output=True, text=True).stdout


_ENTRY = re.compile(r'^(#~ )?msgid ((?:"(?:[^"\\]|\\.)*"\s*(?:#~ )?)+)', re.MULTILINE)
_PIECE = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _msgids(text: str, *, header: bool = False, obsolete: bool = False) -> set[str]:
    """The msgids of a .po text (live entries, or with `obsolete` the obsolete ones); the
    header's empty msgid only with `header`."""
    found = set()
    for match in _ENTRY.finditer(text):
        if bool(match.group(1)) != obsolete:
            continue
        msgid = _unescape("".join(_PIECE.findall(match.group(2))))
        if msgid or header:
            found.add(msgid)
    return found


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)
