"""The embedded backend: LMDB on local disk, in-process, no server.

LMDB is a sorted key-value store with memory-mapped reads, which matches HBase's model (sorted
row keys, prefix and range scans). Each table is a named LMDB database; each row is one value
holding all its typed cells, so a row is one lookup (HBase stores one cell per column; here one
read per row is what makes point reads cheap). How a row is laid out in its value: ``packed``.

Concurrency: any number of processes read while one writes (LMDB's single-writer lock is
cross-process: a second writer waits for the first to commit). An environment is never shared
across fork: a process that finds itself with another pid reopens it.
"""
from __future__ import annotations

import os
import threading
from typing import Iterator, Sequence

import lmdb

from ..codecs import pack, unpack
from ..exceptions import StoreError, StoreUnavailable, TableMissing
from ..model import Row
from .packed import SHAPES_DB, RowLayout, shape_key


# One environment per folder and process, shared by every backend object on that folder (LMDB
# refuses to open the same files twice in a process). Entries made by a parent before a fork are
# closed in the child, which then opens its own.
_ENVIRONMENTS: dict[str, tuple[int, lmdb.Environment]] = {}
_ENV_LOCK = threading.Lock()

# py-lmdb keeps the GIL while ``open_db`` waits for LMDB's write lock. If another thread of the
# process holds that write lock and needs the GIL to finish, both hang. So, within a process, the
# threads that take LMDB's write lock (opening a table, writing) take this lock first, one at a time.
_WRITE_LOCK = threading.RLock()


def _environment(path: str, map_size: int, max_dbs: int) -> lmdb.Environment:
    pid = os.getpid()
    with _ENV_LOCK:
        for other_path, (owner, env) in list(_ENVIRONMENTS.items()):
            if owner != pid:  # inherited across fork: unusable here
                try:
                    env.close()
                except lmdb.Error:
                    pass
                del _ENVIRONMENTS[other_path]
        entry = _ENVIRONMENTS.get(path)
        if entry is not None:
            return entry[1]
        os.makedirs(path, exist_ok=True)
        env = lmdb.open(
            path,
            map_size=map_size,
            max_dbs=max_dbs,
            max_readers=1024,
            readahead=False,  # random point reads: let the page cache decide
        )
        _ENVIRONMENTS[path] = (pid, env)
        return env


def _forget_environment(path: str) -> None:
    with _ENV_LOCK:
        entry = _ENVIRONMENTS.pop(path, None)
    if entry is not None and entry[0] == os.getpid():
        entry[1].close()


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, path: str, map_size: int = 1 << 40, max_dbs: int = 128):
        self.path = os.path.abspath(path)
        self.map_size = map_size
        self.max_dbs = max_dbs
        self._env_obj: lmdb.Environment | None = None
        self._pid: int | None = None
        self._dbs: dict[str, object] = {}
        self._layout = RowLayout(self._load_shape)

    # -- environment ---------------------------------------------------------------------------
    def _env(self) -> lmdb.Environment:
        if self._env_obj is None or self._pid != os.getpid():
            self._dbs = {}
            try:
                self._env_obj = _environment(self.path, self.map_size, self.max_dbs)
            except (OSError, lmdb.Error) as exc:
                self._env_obj = None
                raise StoreUnavailable(f"embedded store at {self.path} cannot be opened: {exc}") from None
            self._pid = os.getpid()
        return self._env_obj

    def _db(self, table, create: bool = False):
        return self._named_db(table.name, create)

    def _named_db(self, name: str, create: bool = False):
        db = self._dbs.get(name)
        if db is not None:
            return db
        env = self._env()
        with _WRITE_LOCK:
            db = self._dbs.get(name)
            if db is not None:  # another thread opened it meanwhile
                return db
            try:
                # py-lmdb only keeps handles opened by a write transaction, so this waits for a
                # writer's current batch to commit: once per table and process.
                db = env.open_db(name.encode(), create=create)
            except lmdb.NotFoundError:
                raise TableMissing(
                    f"table {name!r} does not exist in the embedded store at {self.path}"
                ) from None
            except lmdb.Error as exc:
                raise self._translate(exc) from None
            self._dbs[name] = db
        return db

    def _translate(self, exc: Exception) -> StoreError:
        if isinstance(exc, lmdb.MapFullError):
            return StoreError(f"embedded store at {self.path} is full: raise STORE_MAP_SIZE")
        if isinstance(exc, (lmdb.DiskError, lmdb.PanicError, lmdb.CorruptedError, lmdb.InvalidError)):
            _forget_environment(self.path)  # reopen on the next call
            self._env_obj = None
            return StoreUnavailable(f"embedded store at {self.path} failed: {exc}")
        return StoreError(f"embedded store error: {exc}")

    # -- tables --------------------------------------------------------------------------------
    def create_table(self, table) -> None:
        self._db(table, create=True)

    def drop_table(self, table) -> None:
        try:
            db = self._db(table)
        except TableMissing:
            return
        try:
            with _WRITE_LOCK, self._env().begin(write=True) as txn:
                txn.drop(db, delete=True)
        except lmdb.Error as exc:
            raise self._translate(exc) from None
        self._dbs.pop(table.name, None)

    def tables(self) -> list[str]:
        try:
            with self._env().begin() as txn:
                return sorted(k.decode() for k, _ in txn.cursor() if k.decode() != SHAPES_DB)
        except lmdb.Error as exc:
            raise self._translate(exc) from None

    # -- shapes (see packed) ---------------------------------------------------------------------
    def _load_shape(self, shape_id: int) -> tuple[str, ...]:
        # A fresh read transaction: the one reading the row may predate the shapes database's
        # handle, and a shape, once committed, never changes.
        try:
            db = self._named_db(SHAPES_DB)
            with self._env().begin(db=db) as txn:
                data = txn.get(shape_key(shape_id))
        except TableMissing:
            data = None
        except lmdb.Error as exc:
            raise self._translate(exc) from None
        if data is None:
            raise StoreError(f"embedded store at {self.path}: a row has an unknown shape {shape_id}")
        return tuple(unpack(data))

    # -- reads ---------------------------------------------------------------------------------
    def get(self, table, key: bytes, columns: Sequence[str] | None) -> Row | None:
        db = self._db(table)
        try:
            with self._env().begin(db=db) as txn:
                data = txn.get(key)
        except lmdb.Error as exc:
            raise self._translate(exc) from None
        return None if data is None else self._layout.reader(table, columns)(key, data)

    def get_many(self, table, keys, columns, uniform: bool = False) -> list[Row]:
        db = self._db(table)
        read = self._layout.reader(table, columns)
        # Read in key order (neighbouring keys share pages), answer in the order asked.
        order = sorted(range(len(keys)), key=keys.__getitem__)
        found: list = [None] * len(keys)
        try:
            with self._env().begin(db=db) as txn:
                get = txn.get
                for i in order:
                    data = get(keys[i])
                    if data is not None:
                        found[i] = (keys[i], data) if uniform else read(keys[i], data)
        except lmdb.Error as exc:
            raise self._translate(exc) from None
        found = [item for item in found if item is not None]
        return self._layout.uniform_rows(table, columns, found) if uniform else found

    def scan(self, table, start, stop, columns, reverse, limit) -> Iterator[Row]:
        db = self._db(table)  # raise TableMissing now, not at the first next()
        read = self._layout.reader(table, columns)
        try:
            txn = self._env().begin(db=db)
        except lmdb.Error as exc:
            raise self._translate(exc) from None
        return self._walk(txn, read, start, stop, reverse, limit)

    def scan_prefixes(self, table, prefixes, columns) -> list[list[Row]]:
        db = self._db(table)
        read = self._layout.reader(table, columns)
        found: dict[bytes, list[Row]] = {}
        try:
            with self._env().begin(db=db) as txn:
                cursor = txn.cursor()
                for prefix in sorted(set(prefixes)):  # in key order: neighbouring pages
                    rows = found[prefix] = []
                    if cursor.set_range(prefix):
                        for key, data in cursor.iternext():
                            if not key.startswith(prefix):
                                break
                            rows.append(read(key, data))
        except lmdb.Error as exc:
            raise self._translate(exc) from None
        return [found[prefix] for prefix in prefixes]

    @staticmethod
    def _walk(txn, read, start, stop, reverse, limit):
        try:
            cursor = txn.cursor()
            if not reverse:
                found = cursor.set_range(start) if start else cursor.first()
                rows = cursor.iternext()
            else:
                if stop is None:
                    found = cursor.last()
                else:  # the last key < stop
                    found = cursor.prev() if cursor.set_range(stop) else cursor.last()
                rows = cursor.iterprev()
            if not found:
                return
            for count, (key, data) in enumerate(rows, 1):
                if reverse:
                    if start is not None and key < start:
                        break
                elif stop is not None and key >= stop:
                    break
                yield read(key, data)
                if limit is not None and count >= limit:
                    break
        finally:
            txn.abort()

    # -- writes --------------------------------------------------------------------------------
    def write(self, table, puts, deletes) -> None:
        db = self._db(table)
        layout = self._layout
        shapes = self._named_db(SHAPES_DB, create=True) if puts else None
        pending: dict = {}
        try:
            # One write transaction per call: a batch is all-or-nothing here.
            with _WRITE_LOCK, self._env().begin(write=True, db=db) as txn:
                get, put = txn.get, txn.put

                def register(shape_id: int, names: tuple[str, ...]):
                    key = shape_key(shape_id)
                    stored = get(key, db=shapes)
                    if stored is None:
                        put(key, pack(list(names)), db=shapes)
                        return None
                    return tuple(unpack(stored))

                def shape_id_of(names: tuple[str, ...]) -> int:
                    return layout.shape_id(names, register, pending)

                def stored_shape(shape_id: int) -> tuple[str, ...]:
                    stored = get(shape_key(shape_id), db=shapes)
                    if stored is None:
                        raise StoreError(f"embedded store at {self.path}: a row has an unknown shape {shape_id}")
                    return tuple(unpack(stored))

                for key, cells in puts:
                    old = get(key)
                    if old is None:
                        merged = {c: v for c, v in cells.items() if v is not None}
                    else:
                        merged = layout.cells(old, stored_shape)
                        for c, v in cells.items():
                            if v is None:
                                merged.pop(c, None)
                            else:
                                merged[c] = v
                    put(key, layout.encode(table, merged, shape_id_of))
                for key in deletes:
                    txn.delete(key)
        except lmdb.Error as exc:
            raise self._translate(exc) from None
        layout.committed(pending)

    def close(self) -> None:
        if self._env_obj is not None and self._pid == os.getpid():
            _forget_environment(self.path)
        self._env_obj = None
        self._dbs = {}
