"""Reads behind the search pages."""
from __future__ import annotations

from dataclasses import dataclass

from store import BadKey, SchemaRow, StoreError, TableMissing, get_store

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


def objects_with_prefix(*, prefix: str, limit: int = 100) -> tuple[list[dict], bool]:
    """Summary rows of the objects whose id starts with ``prefix``, in id order.

    Returns
    -------
    (rows, truncated)
        At most ``limit`` rows of the ``objects`` table (``i:objectId``, ``i:ra``, ``i:lastjd``,
        ``d:nalerts``, ``d:classification``, ...); ``truncated`` when more objects match.
    """
    from alerts.tables import ObjectSummary

    if not prefix or "_" in prefix:
        return [], False
    try:
        with get_store()[ObjectSummary].scan(prefix, limit=limit) as scan:
            rows = [dict(row) for row in scan]
    except (BadKey, TableMissing):
        return [], False
    return rows, scan.truncated


def alerts_between(*, jd_min: float, jd_max: float, limit: int = 1000) -> tuple[list[dict], bool]:
    """Alerts with jd_min <= ``i:jd`` < jd_max, newest first, through the time index.

    Returns
    -------
    (rows, truncated)
        At most ``limit`` alert rows (every stored column); ``truncated`` when more alerts match.
    """
    from alerts.tables import Alert, TimeIndex

    store = get_store()
    try:
        with store[TimeIndex].scan(
            start=f"{max(jd_min, 0.0):.7f}", stop=f"{max(jd_max, 0.0):.7f}",
            columns=["i:objectId", "i:jd"], limit=limit, reverse=True,
        ) as scan:
            refs = [(row["i:objectId"], row["i:jd"]) for row in scan]
    except TableMissing:
        return [], False
    rows = [dict(row) for row in store[Alert].rows(refs)] if refs else []
    return rows, scan.truncated


def _declared_tables():
    from alerts.tables import ALL_TABLES

    return ALL_TABLES


__all__ = ["StoreError", "TableSummary", "alerts_between", "objects_with_prefix", "store_summary"]
