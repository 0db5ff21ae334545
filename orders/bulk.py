"""Bulk writes for the import hot path.

Django's bulk_create compiles every value of every row through the SQL compiler, and a field's
get_db_prep_save per value costs more than parsing the store's reply. Here the conversion to
the database's form is chosen once per column, from the field's type and the database
(`column_converter`), and applied to the column in one pass — plain values (text, numbers,
booleans, ids, and on PostgreSQL dates, times and amounts, which psycopg sends itself) are not
touched at all. SQLite gets the rows through executemany (one prepared statement, sqlite3's C
loop); PostgreSQL gets them through COPY (psycopg's C encoder, no SQL text to quote: the
statement stays short whatever the number of rows), an upsert as COPY into a temporary table
then one INSERT … SELECT … ON CONFLICT. `auto_now` and `auto_now_add` fields must be given
explicitly."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction

_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField)
UTC = dt.timezone.utc
_REPEATED = (models.DateField, models.DecimalField)  # hashable values (DateTimeField is a DateField)


def column_converter(field: models.Field, connection) -> Callable | None:
    """How a value of `field` becomes what the database driver takes, decided once for the
    column: None when the value goes as it is; else a function giving the same result as
    `field.get_db_prep_save(value, connection)`, taking a short way for the values the importer
    writes (aware datetimes, finite Decimals, JSON without a custom encoder) and the field's own
    way for any other."""
    if isinstance(field, models.ForeignKey) or (isinstance(field, _PLAIN) and not isinstance(field, models.AutoField)):
        return None  # ids, text, numbers and booleans go to the driver as they are

    def slow(value, _field=field):
        return _field.get_db_prep_save(value, connection)

    postgresql = connection.vendor == "postgresql"
    if isinstance(field, models.DateTimeField):
        if postgresql:
            return lambda value: value if value is None or value.tzinfo is not None else slow(value)
        # SQLite: naive UTC text, as Django writes it (its connection's zone is UTC under USE_TZ)
        return lambda value: (None if value is None else
                              str(value.astimezone(UTC).replace(tzinfo=None)) if value.tzinfo is not None
                              else slow(value))
    if isinstance(field, models.DateField):
        if postgresql:
            return lambda value: value if value is None or type(value) is dt.date else slow(value)
        return lambda value: None if value is None else str(value) if type(value) is dt.date else slow(value)
    if isinstance(field, models.DecimalField):
        # a finite Decimal is what Django hands the driver itself
        return lambda value: value if value is None or (type(value) is Decimal and value.is_finite()) else slow(value)
    if isinstance(field, models.JSONField) and field.encoder is None:
        # JSON text: what Django sends SQLite; PostgreSQL reads it into jsonb from COPY
        return _json_text
    return slow


def _json_text(value) -> str | None:
    if value is None:
        return None
    if value == []:  # a line without options: most of them
        return "[]"
    return json.dumps(value)


def _columns(fields, rows: Sequence[Sequence], connection) -> list[list]:
    """The rows as converted columns."""
    columns = [list(column) for column in zip(*rows)]
    for index, field in enumerate(fields):
        convert = column_converter(field, connection)
        if convert is None:
            continue
        if isinstance(field, _REPEATED):  # a page's dates and amounts repeat: each converted once
            done: dict = {}
            columns[index] = [done[value] if value in done else done.setdefault(value, convert(value))
                              for value in columns[index]]
        else:
            columns[index] = [convert(value) for value in columns[index]]
    return columns


def _write(model, names: Sequence[str], rows: Sequence[Sequence], *, unique: Sequence[str] = (),
           update: Sequence[str] = (), returning: Sequence[str] = ()) -> list[tuple] | None:
    if not rows:
        return [] if returning else None
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    column = lambda name: quote(model._meta.get_field(name).column)  # noqa: E731
    fields = [model._meta.get_field(name) for name in names]
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(f.column) for f in fields)
    conflict = ""
    if unique:
        conflict = (f" ON CONFLICT ({', '.join(column(n) for n in unique)}) DO UPDATE SET "
                    + ", ".join(f"{column(n)} = excluded.{column(n)}" for n in update))
    columns = _columns(fields, rows, connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = ",".join(str(f.db_type(connection)) for f in fields)
            return _copy(cursor, table, column_list, types, columns, conflict,
                         ", ".join(column(n) for n in returning))
        cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({', '.join(['%s'] * len(fields))})"
                           f"{conflict}", list(zip(*columns)))
        return None  # executemany answers no rows


def _copy(cursor, table: str, column_list: str, types: str, columns: list[list], conflict: str,
          returning: str) -> list[tuple] | None:
    """PostgreSQL: COPY the rows in (psycopg encodes them in C, nothing is quoted into SQL);
    with `conflict`, into a temporary table first, then INSERT … SELECT … ON CONFLICT (answering
    the `returning` columns of the rows written)."""
    # One transaction (the caller's, or this one): in autocommit the COPY's own commit would empty
    # the staging table (ON COMMIT DELETE ROWS) before the rows are merged.
    with transaction.atomic(using=cursor.db.alias, savepoint=False):
        target = table
        if conflict:
            target = _staging_table(cursor, table, column_list, types)
        statement = f"COPY {target} ({column_list}) FROM STDIN"
        _counted(cursor, statement)  # seen by Django's execute wrappers and query log like any statement
        with cursor.db.wrap_database_errors:
            with cursor.cursor.copy(statement) as copy:
                for row in zip(*columns):
                    copy.write_row(row)
        if not conflict:
            return None
        cursor.execute(f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM {target}{conflict}"
                       + (f" RETURNING {returning}" if returning else ""))
        return cursor.fetchall() if returning else None


def _staging_table(cursor, table: str, column_list: str, types: str) -> str:
    """An empty temporary table with these columns of `table`, where upserted rows land before
    they are merged: made once per connection, emptied at each commit (ON COMMIT DELETE ROWS),
    and here by a DELETE in case one transaction upserts twice (a DELETE of the few rows of a
    page, not a TRUNCATE, which would give the table a new file at every page). Its name follows
    the columns and their types: a connection that outlives a migration changing them makes a
    new one."""
    digest = hashlib.blake2s(f"{column_list}|{types}".encode(), digest_size=6).hexdigest()
    name = cursor.db.ops.quote_name(f"{table.strip(chr(34))}_staging_{digest}")
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "
                   f"SELECT {column_list} FROM {table} WITH NO DATA; DELETE FROM {name}")
    return name


def _counted(cursor, statement: str) -> None:
    """Let Django's execute wrappers and query log see a COPY run on the raw cursor."""
    db = cursor.db
    for wrapper in db.execute_wrappers:
        wrapper(lambda *args: None, statement, None, False, {"connection": db, "cursor": cursor})
    if db.queries_logged:
        db.queries_log.append({"sql": statement, "time": "0.000"})


def insert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence]) -> None:
    """INSERT every row (tuples ordered like `names`)."""
    _write(model, names, rows)


def upsert_rows(model: type[models.Model], names: Sequence[str], rows: Sequence[Sequence], *,
                unique: Sequence[str], update: Sequence[str], returning: Sequence[str] = ()) -> list[tuple] | None:
    """INSERT … ON CONFLICT (unique) DO UPDATE SET update = excluded.update, for every row.
    Rows must be unique on `unique` (PostgreSQL refuses to update one row twice per statement).
    With `returning`: those columns of every row written, where the database answers them in
    the same statement (PostgreSQL); None where it cannot (SQLite: ask with a query)."""
    return _write(model, names, rows, unique=unique, update=update, returning=returning)
