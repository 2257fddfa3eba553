"""The model-layer adapter over a wide-column store (HBase, or the embedded LMDB store).

Domain-free: nothing here knows about alerts. See ``model`` (declaring tables), ``manager``
(operations), ``codecs`` (typed cells) and ``backends`` (engines).
"""
from .codecs import Bool, Bytes, Float, Int, Str, Struct
from .core import SchemaRow, Store, configure, get_store
from .exceptions import (
    BadKey,
    BadValue,
    StoreBusy,
    StoreError,
    StoreTimeout,
    StoreUnavailable,
    TableMissing,
    UnknownColumn,
)
from .manager import Batch, Manager, Scan
from .model import Field, Row, RowKey, Table

__all__ = [
    "Bool", "Bytes", "Float", "Int", "Str", "Struct",
    "Store", "SchemaRow", "configure", "get_store",
    "BadKey", "BadValue", "StoreBusy", "StoreError", "StoreTimeout", "StoreUnavailable",
    "TableMissing", "UnknownColumn",
    "Batch", "Manager", "Scan", "Field", "Row", "RowKey", "Table",
]
