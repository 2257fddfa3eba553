"""What a wide-column store does well, and nothing it cannot.

``get``, ``rows``, ``scan`` (prefix or range, projection, limit, reverse) returning a lazy,
closeable :class:`Scan`, ``put`` and ``batch``. There is deliberately no ``count()``, no ordering
other than key order and no filter on unindexed columns: secondary access goes through index
tables declared next to the main table.
"""
from __future__ import annotations

from operator import itemgetter
from typing import Any, Iterable, Iterator, Sequence

from .backends.base import key_after_prefix
from .exceptions import BadKey, BadValue, StoreError, UnknownColumn
from .model import Row, Table

DEFAULT_BATCH_SIZE = 1000
_MAX_PLANS = 4096  # row shapes remembered per table; bulk writes use a few dozen


class _Plan:
    """What writing a row of one shape needs: bulk checks by codec, then single coercions."""

    __slots__ = ("checks", "coercions")

    def __init__(self, checks: list, coercions: list):
        self.checks = checks
        self.coercions = coercions


def _values_getter(columns: list[str]):
    """A function returning the tuple of ``row[c]`` for ``columns`` (itemgetter, always a tuple)."""
    if len(columns) == 1:
        column = columns[0]
        return lambda row: (row[column],)
    return itemgetter(*columns)


def _as_key(table: type[Table], key: Any) -> bytes:
    if isinstance(key, tuple):
        return table.key.of_values(*key)
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)) or not key:
        raise BadKey(f"a row key is a non-empty str, bytes or tuple of key values, got {key!r}")
    return bytes(key)


class Scan:
    """A lazy iterator of :class:`Row` s. Close it (or use ``with``) when not exhausted.

    ``truncated`` is True once iteration stopped because ``limit`` rows were returned while more
    rows matched: a caller can say the result was cut instead of silently losing rows.
    """

    def __init__(self, rows: Iterator[Row], limit: int | None):
        self._rows = rows
        self._limit = limit
        self._returned = 0
        self.truncated = False

    def __iter__(self) -> "Scan":
        return self

    def __next__(self) -> Row:
        try:
            row = next(self._rows)
        except StopIteration:
            self.close()
            raise
        if self._limit is not None:
            if self._returned >= self._limit:
                # The backend was asked for one row more than the limit: its presence means "cut".
                self.truncated = True
                self.close()
                raise StopIteration
            self._returned += 1
        return row

    def close(self) -> None:
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> "Scan":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # release a read transaction / pooled connection left open
        try:
            self.close()
        except Exception:
            pass


class Batch:
    """Buffered writes, sent every ``size`` mutations and on exit.

    On an exception inside the ``with`` block, mutations not yet sent are dropped (rows already
    sent stay: HBase has no multi-row transactions, and row keys are deterministic so a rerun
    rewrites the same rows).
    """

    def __init__(self, manager: "Manager", size: int = DEFAULT_BATCH_SIZE):
        self.manager = manager
        self.size = size
        self._puts: list[tuple[bytes, dict]] = []
        self._deletes: list[bytes] = []

    def put(self, row: dict[str, Any], key: Any = None) -> bytes:
        item = self.manager._prepare(row, key)
        self._puts.append(item)
        if len(self._puts) + len(self._deletes) >= self.size:
            self.flush()
        return item[0]

    def delete(self, key: Any) -> None:
        self._deletes.append(_as_key(self.manager.table, key))
        if len(self._puts) + len(self._deletes) >= self.size:
            self.flush()

    def flush(self) -> None:
        if self._puts or self._deletes:
            puts, deletes = self._puts, self._deletes
            self._puts, self._deletes = [], []
            self.manager.backend.write(self.manager.table, puts, deletes)

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.flush()
        else:
            self._puts, self._deletes = [], []


class Manager:
    """Operations on one table of one store (``Alert.objects`` or ``store.manager(Alert)``)."""

    def __init__(self, table: type[Table], backend):
        self.table = table
        self.backend = backend
        self._coercers = {c: f.codec.coerce for c, f in table.fields_by_column.items()}
        # Write plans by row shape, see _prepare.
        self._plans: dict[tuple[tuple, tuple], _Plan] = {}

    # -- reads ------------------------------------------------------------------------------
    def _projection(self, columns: Sequence[str] | None) -> list[str] | None:
        if columns is None:
            return None
        if isinstance(columns, str):
            columns = [columns]
        return self.table.check_columns(columns)

    def get(self, key: Any, columns: Sequence[str] | None = None) -> Row | None:
        """The row with this key (a str, bytes, or a tuple of key values), or None."""
        raw = _as_key(self.table, key)
        return self.backend.get(self.table, raw, self._projection(columns))

    def rows(
        self, keys: Iterable[Any], columns: Sequence[str] | None = None, *, uniform: bool = False
    ) -> list[Row]:
        """The rows that exist among ``keys``, in the order of ``keys`` (a missing key is skipped,
        a repeated key gives its row again). Read together: one read transaction (embedded), a
        few multi-row requests (HBase).

        ``uniform``: every row gets the same keys, in the same order: the columns any of the rows
        holds, in the order first seen, None where a row has no cell. For a table of rows (a JSON
        list of records, a data frame) this costs nothing more on the embedded store, where
        padding the rows afterwards would build each one twice.
        """
        raw = [_as_key(self.table, k) for k in keys]
        if not raw:
            return []
        return self.backend.get_many(self.table, raw, self._projection(columns), uniform)

    def scan(
        self,
        prefix: Any = None,
        *,
        start: Any = None,
        stop: Any = None,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        reverse: bool = False,
    ) -> Scan:
        """Rows in key order: those whose key starts with ``prefix``, or with start <= key < stop.

        ``prefix`` is a str/bytes, or a tuple of leading key values (``("ZTF21abc",)``: the key
        separator is added so that it does not also match ``ZTF21abcd``). ``reverse`` walks the
        same rows from the last to the first. ``limit`` caps the rows returned; the scan's
        ``truncated`` then says whether more rows matched.
        """
        if prefix is not None and (start is not None or stop is not None):
            raise BadKey("give either prefix or start/stop, not both")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise BadValue(f"limit must be a non-negative int, got {limit!r}")
        if prefix is not None:
            low = self._prefix_key(prefix)
            high = key_after_prefix(low)
        else:
            low = None if start is None else _as_key(self.table, start)
            high = None if stop is None else _as_key(self.table, stop)
        if limit == 0:
            return Scan(iter(()), 0)
        fetch = None if limit is None else limit + 1
        rows = self.backend.scan(self.table, low, high, self._projection(columns), reverse, fetch)
        return Scan(rows, limit)

    def scan_prefixes(self, prefixes: Iterable[Any], columns: Sequence[str] | None = None) -> list[list[Row]]:
        """The rows under each of many key prefixes (``("ZTF21abc",)``: an object's alerts), one
        list per prefix in the order given, each in key order.

        Read together: one read transaction (embedded); on HBase, one scan covers several
        prefixes wherever no other rows lie between them, and scans run on the connection pool
        at once. Prefixes are given as to ``scan``; none may be a prefix of another (as
        ``RowKey.prefix`` makes them for different values of the leading key columns).
        """
        raw = [self._prefix_key(prefix) for prefix in prefixes]
        if not raw:
            return []
        return self.backend.scan_prefixes(self.table, raw, self._projection(columns))

    def _prefix_key(self, prefix: Any) -> bytes:
        """A key prefix from leading key values (a tuple) or given as a key (str, bytes)."""
        if isinstance(prefix, tuple):
            return self.table.key.prefix(*prefix)
        return _as_key(self.table, prefix)

    # -- writes -----------------------------------------------------------------------------
    def _prepare(self, row: dict[str, Any], key: Any = None) -> tuple[bytes, dict]:
        # Rows written in bulk (ingestion) come in few shapes: the same columns with values of
        # the same types. Each shape is checked once against the codecs (a _Plan); a row of a
        # known shape then only needs the checks its types leave open (int ranges) and the
        # coercion of values not already of their codec's exact type. Every value is still
        # checked: its type is part of the shape.
        shape = (tuple(row), tuple(map(type, row.values())))
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plan(shape)
        if plan is not None:
            cells = dict(row)
            try:
                for check, values_of in plan.checks:
                    check(values_of(cells))
                for column, coerce in plan.coercions:
                    cells[column] = coerce(cells[column])
            except BadValue:
                cells = self._coerce_each(row)  # the same error, naming its column
            raw = self.table.key.of_row(cells) if key is None else _as_key(self.table, key)
            return raw, cells
        cells = self._coerce_each(row)
        raw = self.table.key.of_row(cells) if key is None else _as_key(self.table, key)
        return raw, cells

    def _plan(self, shape: tuple[tuple, tuple]) -> _Plan | None:
        """The plan for rows of this shape, or None if a column is unknown (the slow path says)."""
        fields = self.table.fields_by_column
        by_codec: dict[type, tuple[Any, list[str]]] = {}
        coercions = []
        for column, kind in zip(*shape):
            field = fields.get(column)
            if field is None:
                return None
            if kind is type(None):
                continue
            codec = field.codec
            if kind in codec.exact_types:
                if codec.checks_exact:
                    by_codec.setdefault(type(codec), (codec, []))[1].append(column)
            else:
                coercions.append((column, codec.coerce))
        checks = [(codec.check_exact, _values_getter(columns)) for codec, columns in by_codec.values()]
        plan = _Plan(checks, coercions)
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[shape] = plan
        return plan

    def _coerce_each(self, row: dict[str, Any]) -> dict:
        cells = {}
        coercers = self._coercers
        for column, value in row.items():
            try:
                coerce = coercers[column]
            except KeyError:
                raise UnknownColumn(f"table {self.table.name} has no column {column!r}") from None
            try:
                cells[column] = coerce(value)
            except BadValue as exc:
                raise BadValue(f"{self.table.name} {column}: {exc}") from None
        return cells

    def put(self, row: dict[str, Any], key: Any = None) -> str:
        """Write one row (merging with existing cells; a None value removes the cell)."""
        item = self._prepare(row, key)
        self.backend.write(self.table, [item], [])
        return item[0].decode("utf-8")

    def delete(self, key: Any) -> None:
        self.backend.write(self.table, [], [_as_key(self.table, key)])

    def batch(self, size: int = DEFAULT_BATCH_SIZE) -> Batch:
        return Batch(self, size)

    # -- table life -------------------------------------------------------------------------
    def create(self) -> None:
        """Create the table if missing and record its schema row."""
        self.backend.create_table(self.table)

    def drop(self) -> None:
        self.backend.drop_table(self.table)

    def exists(self) -> bool:
        return self.table.name in self.backend.tables()


__all__ = ["Manager", "Scan", "Batch", "StoreError"]
