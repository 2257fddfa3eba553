"""The interface every backend implements.

Keys are bytes; ``table`` is a :class:`store.model.Table` subclass (the backend reads its name,
families and codecs); cells going in are typed Python values keyed by column name, and rows come
out as :class:`store.model.Row` (the backend builds them: one dict per row, no copy). A value of
``None`` in a put removes that cell, so that both backends agree on what a row holds.
"""
from __future__ import annotations

from itertools import chain
from typing import Any, Iterator, Protocol, Sequence

from ..model import Row

Cells = dict[str, Any]


class Backend(Protocol):
    name: str

    def create_table(self, table) -> None: ...

    def drop_table(self, table) -> None: ...

    def tables(self) -> list[str]: ...

    def get(self, table, key: bytes, columns: Sequence[str] | None) -> Row | None: ...

    def get_many(
        self, table, keys: Sequence[bytes], columns: Sequence[str] | None, uniform: bool = False
    ) -> list[Row]:
        """The rows of ``keys`` that exist, in the order of ``keys`` (with ``uniform``, all with
        the same keys: see :func:`uniform_rows`)."""
        ...

    def scan(
        self,
        table,
        start: bytes | None,
        stop: bytes | None,
        columns: Sequence[str] | None,
        reverse: bool,
        limit: int | None,
    ) -> Iterator[Row]:
        """Rows with ``start <= key < stop`` in key order (descending when ``reverse``).

        The returned iterator must hold its resources only while it is consumed, and release them
        on ``close()`` (it is a generator).
        """
        ...

    def scan_prefixes(self, table, prefixes: Sequence[bytes], columns: Sequence[str] | None) -> list[list[Row]]:
        """The rows under each prefix (key order), one list per prefix, in the order given."""
        ...

    def write(
        self, table, puts: Sequence[tuple[bytes, Cells]], deletes: Sequence[bytes]
    ) -> None: ...

    def close(self) -> None: ...


def project(cells: Cells, columns: Sequence[str] | None) -> Cells:
    """Keep only the requested columns ("f:q") and families ("f")."""
    if not columns:
        return cells
    wanted = set(columns)
    families = {c for c in wanted if ":" not in c}
    if not families:
        return {c: v for c, v in cells.items() if c in wanted}
    return {
        c: v for c, v in cells.items() if c in wanted or c.partition(":")[0] in families
    }


def uniform_rows(rows: Sequence[Row]) -> list[Row]:
    """The rows with the same keys in the same order: every column any of them holds, in
    first-seen order, None where a row has no cell (new rows; their ``key`` is kept)."""
    template = dict.fromkeys(chain.from_iterable(dict.fromkeys(map(tuple, rows))))
    out = []
    for row in rows:
        filled = dict.__new__(Row)
        dict.update(filled, template)
        dict.update(filled, row)
        filled.key = row.key
        out.append(filled)
    return out


def key_after_prefix(prefix: bytes) -> bytes | None:
    """The smallest key greater than every key starting with ``prefix`` (None: no upper bound)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])
