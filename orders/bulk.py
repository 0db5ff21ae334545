"""Bulk writes for the import hot path.

Django's bulk_create compiles every value of every row through the SQL compiler, which costs
more than parsing the store's reply. Here each field's database conversion is looked up once
per statement; SQLite gets the rows through executemany (one prepared statement, sqlite3's C
loop), PostgreSQL as one array per column (`INSERT … SELECT * FROM unnest(…)`: one short
statement whatever the number of rows). Values are still converted by
the fields themselves (get_db_prep_save), so behaviour matches the ORM; `auto_now` and
`auto_now_add` fields must be given explicitly."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db import DEFAULT_DB_ALIAS, connections, models

_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)


def _converter(field: models.Field, connection) -> Callable | None:
    if isinstance(field, models.ForeignKey) or (isinstance(field, _PLAIN) and not isinstance(field, models.AutoField)):
        return None  # ids, text, numbers and booleans go to the driver as they are
    return lambda value, _f=field: _f.get_db_prep_save(value, connection)


def _write(model, names: Sequence[str], rows: Sequence[Sequence], suffix: str = "") -> None:
    if not rows:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in names]
    converters = [_converter(f, connection) for f in fields]
    params = [
        tuple(value if conv is None else conv(value) for value, conv in zip(row, converters)) for row in rows
    ]
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            cursor.execute(f"{head}SELECT * FROM unnest({arrays}){suffix}", [list(col) for col in zip(*params)])
        else:
            cursor.executemany(head + "VALUES (" + ", ".join(["%s"] * len(fields)) + ")" + suffix, params)


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence]) -> None:
    """INSERT every row (tuples ordered like `names`)."""
    _write(model, names, rows)


def upsert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence], *,
                unique: Sequence[str], update: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (unique) DO UPDATE SET update = excluded.update, for every row.
    Rows must be unique on `unique` (PostgreSQL refuses to update one row twice per statement)."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    column = lambda name: quote(model._meta.get_field(name).column)  # noqa: E731
    suffix = (f" ON CONFLICT ({', '.join(column(n) for n in unique)}) DO UPDATE SET "
              + ", ".join(f"{column(n)} = excluded.{column(n)}" for n in update))
    _write(model, names, rows, suffix)
