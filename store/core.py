"""A store: one backend plus the managers of the tables declared against it.

The default store is configured once per process from settings (``store.configure``) or, when
nothing configured it, from the environment (``STORE_BACKEND``, ``STORE_PATH``, ``HBASE_*``).
Backends open their connections lazily, so a store configured before a fork (gunicorn, Celery)
opens fresh connections in each worker.
"""
from __future__ import annotations

import os
import threading
from typing import Any

from .codecs import Str, Struct
from .manager import Manager
from .model import Field, RowKey, Table


class SchemaRow(Table):
    """One row per table: each column's codec and description (the table's "schema row")."""

    name = "schema"
    families = ("c",)
    key = RowKey("c:table", sep="|")
    table = Field("c:table", Str())
    columns = Field("c:columns", Struct(), "{column: {'type': codec name, 'doc': text}}")
    key_columns = Field("c:key", Struct(), "the columns the row key is made of, in order")


def _backend_from(settings: dict[str, Any]):
    kind = (settings.get("BACKEND") or "embedded").lower()
    if kind == "embedded":
        from .backends.embedded import EmbeddedBackend

        return EmbeddedBackend(
            path=settings.get("PATH") or "var/store",
            map_size=int(settings.get("MAP_SIZE") or 1 << 40),
        )
    if kind == "hbase":
        from .backends.hbase import HBaseBackend

        return HBaseBackend(
            host=settings.get("HBASE_HOST") or "127.0.0.1",
            port=int(settings.get("HBASE_PORT") or 9090),
            table_prefix=settings.get("HBASE_TABLE_PREFIX") or "portal",
            timeout_ms=int(settings.get("HBASE_TIMEOUT_MS") or 10000),
            pool_size=int(settings.get("HBASE_POOL_SIZE") or 4),
            retries=int(settings.get("HBASE_RETRIES", 2)),
        )
    raise ValueError(f"STORE_BACKEND must be 'embedded' or 'hbase', got {kind!r}")


def settings_from_env(env=os.environ) -> dict[str, Any]:
    return {
        "BACKEND": env.get("STORE_BACKEND", "embedded"),
        "PATH": env.get("STORE_PATH", "var/store"),
        "HBASE_HOST": env.get("HBASE_HOST", "127.0.0.1"),
        "HBASE_PORT": env.get("HBASE_PORT", "9090"),
        "HBASE_TABLE_PREFIX": env.get("HBASE_TABLE_PREFIX", "portal"),
        "HBASE_TIMEOUT_MS": env.get("HBASE_TIMEOUT_MS", "10000"),
    }


class Store:
    """A backend and the table operations on it."""

    def __init__(self, backend, settings: dict[str, Any] | None = None):
        self.backend = backend
        self.settings = dict(settings or {})
        self._managers: dict[type, Manager] = {}

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> "Store":
        return cls(_backend_from(settings), settings)

    @property
    def name(self) -> str:
        return self.backend.name

    def manager(self, table: type[Table]) -> Manager:
        manager = self._managers.get(table)
        if manager is None:
            manager = self._managers[table] = Manager(table, self.backend)
        return manager

    __getitem__ = manager

    def create(self, *tables: type[Table]) -> None:
        """Create tables (if missing) and write their schema rows."""
        schema = self.manager(SchemaRow)
        schema.create()
        for table in tables:
            self.manager(table).create()
            schema.put(
                {
                    "c:table": table.name,
                    "c:columns": {
                        c: {"type": f.codec.name, "doc": f.doc}
                        for c, f in table.fields_by_column.items()
                    },
                    "c:key": list(table.key.columns),
                }
            )

    def drop(self, *tables: type[Table]) -> None:
        for table in tables:
            self.manager(table).drop()
            schema = self.manager(SchemaRow)
            if schema.exists():
                schema.delete((table.name,))

    def schema(self, table: type[Table]) -> dict[str, Any] | None:
        """The stored schema row of a table: ``{"columns": {...}, "key": [...]}`` or None."""
        row = self.manager(SchemaRow).get((table.name,))
        if row is None:
            return None
        return {"columns": row.get("c:columns") or {}, "key": row.get("c:key") or []}

    def tables(self) -> list[str]:
        return self.backend.tables()

    def close(self) -> None:
        self.backend.close()


_default: Store | None = None
_default_settings: dict[str, Any] | None = None
_lock = threading.Lock()


def configure(settings: dict[str, Any]) -> None:
    """Set the default store's settings (``BACKEND``, ``PATH``, ``HBASE_HOST``, ...)."""
    global _default, _default_settings
    with _lock:
        if _default is not None:
            _default.close()
        _default, _default_settings = None, dict(settings)


def get_store() -> Store:
    """The process's default store, built on first use."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Store.from_settings(_default_settings or settings_from_env())
    return _default


class _ObjectsDescriptor:
    """``Table.objects``: the table's manager on the default store."""

    def __get__(self, instance, owner):
        return get_store().manager(owner)


Table.objects = _ObjectsDescriptor()
