"""The store's own exceptions.

Callers (selectors, views, the ingest command) catch these and never a backend's raw error
(Thrift, socket, LMDB): the backends translate every failure into one of them.
"""


class StoreError(Exception):
    """Base class of every error the store raises."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached (server down, connection refused, store folder unusable).

    Raised after the configured retries; the next call tries again, so the store works once the
    backend is back, without a restart.
    """


class StoreTimeout(StoreUnavailable):
    """The backend did not answer within the configured timeout."""


class StoreBusy(StoreError):
    """Another process holds the write lock of the embedded store for too long."""


class BadKey(StoreError, ValueError):
    """A row key (or a part of one) is malformed: wrong type, empty, or holds the separator."""


class BadValue(StoreError, ValueError):
    """A value does not fit the codec of its column."""


class UnknownColumn(StoreError, KeyError):
    """A column that the table does not declare."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown column"


class TableMissing(StoreError):
    """The table has not been created in this store (run `manage.py store_init`)."""
