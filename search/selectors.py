"""Reads behind the search pages."""
from __future__ import annotations

from dataclasses import dataclass

from store import SchemaRow, StoreError, get_store

ROW_COUNT_CAP = 200_000


@dataclass
class TableSummary:
    name: str
    rows: int
    capped: bool  # True when the table holds more rows than were counted


def store_summary(*, cap: int = ROW_COUNT_CAP) -> list[TableSummary]:
    """Each table of the default store with its row count (counted up to ``cap``).

    The store has no count(): this walks keys with a capped scan and says when it stopped early.
    """
    store = get_store()
    known = {SchemaRow.name: SchemaRow}
    for table in _declared_tables():
        known[table.name] = table
    out = []
    for name in store.tables():
        table = known.get(name)
        if table is None:
            continue
        first_column = next(iter(table.fields_by_column))
        with store[table].scan(start=b"\x00", columns=[first_column], limit=cap) as rows:
            count = sum(1 for _ in rows)
            out.append(TableSummary(name, count, rows.truncated))
    return out


def _declared_tables():
    from alerts.tables import ALL_TABLES

    return ALL_TABLES


__all__ = ["store_summary", "TableSummary", "StoreError"]
