"""The few SQL spellings that differ between SQLite and PostgreSQL.

The roll-up and the funnel are raw ``INSERT ... SELECT`` statements (the ORM
has no set-based insert); everything else in them is standard SQL that both
databases run (window functions, ``CASE``, ``||``, ``SUBSTR``).
"""

from __future__ import annotations

from django.db import connection


def json_text(column: str, key: str) -> str:
    """The text value of ``key`` in a JSON column (NULL when absent)."""
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def json_number(column: str, key: str) -> str:
    """The numeric value of ``key`` (a decimal written as text or a number)."""
    if connection.vendor == "postgresql":
        return f"CAST(NULLIF({column} ->> '{key}', '') AS NUMERIC)"
    return f"CAST(json_extract({column}, '$.{key}') AS REAL)"


def seconds_between(earlier: str, later: str) -> str:
    """Seconds from one timestamp column to another."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)
