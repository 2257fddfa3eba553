"""Declaring a table once: name, column families, typed fields and a composite row key.

    class Alert(Table):
        name = "ztf"
        families = ("i", "d")
        key = RowKey("i:objectId", "i:jd")
        objectId = Field("i:objectId", Str())
        jd = Field("i:jd", Float())

Rows are plain dicts keyed by column name (``"i:jd"``); a :class:`Row` also carries its key.
Generated tables (hundreds of alert columns) pass ``fields = [Field(...), ...]`` instead of one
attribute per column.
"""
from __future__ import annotations

from typing import Any, Iterable

from .codecs import Codec
from .exceptions import BadKey, UnknownColumn


class Field:
    """A typed column: ``family:qualifier`` and the codec of its values."""

    __slots__ = ("column", "codec", "doc", "family", "qualifier")

    def __init__(self, column: str, codec: Codec, doc: str = ""):
        family, sep, qualifier = column.partition(":")
        if not sep or not family or not qualifier:
            raise ValueError(f"a column is 'family:qualifier', got {column!r}")
        self.column, self.codec, self.doc = column, codec, doc
        self.family, self.qualifier = family, qualifier

    def __repr__(self) -> str:
        return f"Field({self.column!r}, {self.codec!r})"


class RowKey:
    """A row key composed of the values of some fields, joined by ``sep``.

    Each part is rendered by its field's codec (``Codec.key_text``) so keys sort as queries need:
    ``RowKey("i:objectId", "i:jd")`` gives ``ZTF21abfmbix_2459507.8742361``.
    """

    def __init__(self, *columns: str, sep: str = "_"):
        if not columns:
            raise ValueError("a row key needs at least one column")
        self.columns = columns
        self.sep = sep
        self._codecs: tuple[Codec, ...] = ()

    def bind(self, fields: dict[str, Field]) -> None:
        missing = [c for c in self.columns if c not in fields]
        if missing:
            raise ValueError(f"row key columns not declared as fields: {missing}")
        self._codecs = tuple(fields[c].codec for c in self.columns)

    def _parts(self, values: Iterable[Any]) -> list[str]:
        parts = []
        for column, codec, value in zip(self.columns, self._codecs, values):
            text = codec.key_text(value)
            if self.sep in text:
                raise BadKey(f"key part {column}={text!r} holds the key separator {self.sep!r}")
            parts.append(text)
        return parts

    def of_values(self, *values: Any) -> bytes:
        """The full key from one value per key column."""
        if len(values) != len(self.columns):
            raise BadKey(f"the key needs {len(self.columns)} parts {self.columns}, got {len(values)}")
        return self.sep.join(self._parts(values)).encode("utf-8")

    def of_row(self, row: dict[str, Any]) -> bytes:
        try:
            values = [row[c] for c in self.columns]
        except KeyError as exc:
            raise BadKey(f"row lacks key column {exc.args[0]!r}") from None
        return self.of_values(*values)

    def prefix(self, *values: Any) -> bytes:
        """The key prefix matching every row whose leading key columns equal ``values``.

        The separator is appended when fewer values than key parts are given, so that the prefix
        ``ZTF21abc`` never matches ``ZTF21abcd``.
        """
        if not values or len(values) > len(self.columns):
            raise BadKey(f"a prefix has 1 to {len(self.columns)} parts, got {len(values)}")
        text = self.sep.join(self._parts(values))
        if len(values) < len(self.columns):
            text += self.sep
        return text.encode("utf-8")


class Row(dict):
    """A typed row: ``{column: value}``, with its row key in ``.key`` (str)."""

    __slots__ = ("key",)

    def __init__(self, key: str, cells: dict[str, Any]):
        super().__init__(cells)
        self.key = key

    def __repr__(self) -> str:
        return f"Row({self.key!r}, {dict.__repr__(self)})"


class TableMeta(type):
    def __new__(mcls, name, bases, namespace):
        cls = super().__new__(mcls, name, bases, namespace)
        if namespace.get("abstract") or name == "Table":
            return cls
        fields: dict[str, Field] = {}
        for base in reversed(cls.__mro__[1:]):
            fields.update(getattr(base, "fields_by_column", {}))
        for value in list(namespace.get("fields", ())) + [
            v for v in namespace.values() if isinstance(v, Field)
        ]:
            fields[value.column] = value
        if not getattr(cls, "name", None):
            raise TypeError(f"table {name} needs a name")
        families = tuple(cls.families)
        for f in fields.values():
            if f.family not in families:
                raise TypeError(f"{name}: column {f.column} is not in families {families}")
        cls.fields_by_column = fields
        cls.key.bind(fields)
        return cls


class Table(metaclass=TableMeta):
    """Base class of table declarations. Subclasses set ``name``, ``families``, ``key``, fields."""

    name: str = ""
    families: tuple[str, ...] = ()
    key: RowKey
    fields_by_column: dict[str, Field] = {}
    #: Keep each row in one HBase cell rather than one cell per column: HBase's cost is per cell
    #: (a history point of 55 columns cost 55 of them), so for tables whose rows are mostly
    #: written and read whole (alerts, history points, index rows). Reads, projections and merging puts behave
    #: exactly as with one cell per column; the embedded store packs every row in one value anyway.
    one_cell: bool = False

    @classmethod
    def field(cls, column: str) -> Field:
        try:
            return cls.fields_by_column[column]
        except KeyError:
            raise UnknownColumn(f"table {cls.name} has no column {column!r}") from None

    @classmethod
    def check_columns(cls, columns: Iterable[str]) -> list[str]:
        """Validate a projection: each item a declared column or a family name."""
        out = []
        for column in columns:
            if ":" not in column:
                if column not in cls.families:
                    raise UnknownColumn(f"table {cls.name} has no family {column!r}")
            else:
                cls.field(column)
            out.append(column)
        return out
