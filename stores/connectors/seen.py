"""What one fetch has already yielded, in bounded memory.

A fetch pages through a store's orders and drops the ones it already yielded (paging overlap,
orders moving between pages). Keeping every id in a Python dict grows with the feed (about
150 bytes an order); here the ids live in a private temporary SQLite database (`connect("")`:
on disk, removed when closed), whose page cache is capped, so a fetch of 50,000 orders costs
no more memory than one of 5,000. Lookups and writes are one statement per page.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_CACHE_KIB = 512


def stamp(moment: dt.datetime | None) -> int:
    """A modification time as an integer (microseconds since 1970, UTC); 0 when unknown."""
    if moment is None:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


class SeenIds:
    """External id → the newest modification stamp yielded for it, for one fetch. Use as a
    context manager (or call close()); the temporary database goes with it."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, stamp INTEGER NOT NULL) WITHOUT ROWID")

    def __enter__(self) -> SeenIds:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def lookup(self, ids: Iterable[str]) -> dict[str, int]:
        """The stamps of those of `ids` already recorded."""
        wanted = list(dict.fromkeys(i for i in ids if i))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT id, stamp FROM seen WHERE id IN ({marks})", chunk))
        return found

    def record(self, items: Iterable[tuple[str, int]]) -> None:
        """Record (id, stamp) pairs; a later stamp replaces an earlier one."""
        self._db.executemany(
            "INSERT INTO seen (id, stamp) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET stamp = max(stamp, excluded.stamp)",
            [(i, s) for i, s in items if i],
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM seen").fetchone()[0]
