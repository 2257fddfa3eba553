"""Codecs: how a typed value becomes bytes in a cell, and how it becomes part of a row key.

Each codec does three things:
- ``coerce(value)``: accept the Python (or numpy) value a caller gives and return the canonical
  Python value, or raise :class:`BadValue`. ``None`` always means "no value" (the cell is absent).
- ``encode(value) -> bytes`` / ``decode(bytes) -> value``: the cell encoding used by the HBase backend
  and by the schema row. The embedded backend stores a whole row as one msgpack value of canonical
  values instead (one read per row instead of one per cell; ``backends/packed.py``), so it only
  calls ``coerce``.
- ``key_text(value) -> str``: the text of the value inside a row key, chosen so that keys sort the
  way queries need them (fixed decimals for floats, zero padding for ints).
"""
from __future__ import annotations

import math
import struct
from typing import Any

import msgpack

from .exceptions import BadKey, BadValue

_DOUBLE = struct.Struct(">d")
_LONG = struct.Struct(">q")


def _msgpack_default(obj: Any) -> Any:
    """Turn numpy scalars and arrays (and tuples) into plain Python for msgpack."""
    if hasattr(obj, "tolist"):  # numpy scalar or array
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise BadValue(f"cannot store a value of type {type(obj).__name__}")


def pack(value: Any) -> bytes:
    """msgpack encoding shared by the struct codec and the embedded backend's rows."""
    try:
        return msgpack.packb(value, use_bin_type=True, default=_msgpack_default)
    except (TypeError, ValueError, OverflowError) as exc:
        raise BadValue(f"cannot encode value: {exc}") from exc


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False, strict_map_key=False)


class Codec:
    """Base codec; subclasses set ``name`` and implement the conversions.

    ``exact_types`` are the types whose values ``coerce`` returns unchanged (``type(v) is T``,
    not subclasses): a writer may skip ``coerce`` for them and call ``check_exact`` once on all
    such values of a row instead, which must raise :class:`BadValue` where ``coerce`` would.
    ``check_exact`` gets the values of every column of the row whose codec has the same class,
    so it must not depend on the instance's settings.
    """

    name = "codec"
    exact_types: tuple[type, ...] = ()
    checks_exact = False  # True when check_exact does more than nothing

    def coerce(self, value: Any) -> Any:
        raise NotImplementedError

    def check_exact(self, values: tuple) -> None:
        """Validate values whose type is one of ``exact_types`` (nothing to check by default)."""

    def encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> Any:
        raise NotImplementedError

    def key_text(self, value: Any) -> str:
        raise BadKey(f"a {self.name} value cannot be part of a row key")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Int(Codec):
    """64-bit signed integer. In keys: zero padded to ``key_width`` digits (non-negative only)."""

    name = "int"
    exact_types = (int,)  # not bool: type(True) is bool
    checks_exact = True

    def __init__(self, key_width: int = 19):
        self.key_width = key_width

    def check_exact(self, values: tuple) -> None:
        if values and (max(values) >= 2**63 or min(values) < -(2**63)):
            out = next(v for v in values if not -(2**63) <= v < 2**63)
            raise BadValue(f"int out of 64-bit range: {out}")

    def coerce(self, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise BadValue(f"expected an int, got a bool ({value!r})")
        if isinstance(value, float):
            if math.isnan(value) or not value.is_integer():
                raise BadValue(f"expected an int, got {value!r}")
        try:
            out = int(value)
        except (TypeError, ValueError) as exc:
            raise BadValue(f"expected an int, got {value!r}") from exc
        if not -(2**63) <= out < 2**63:
            raise BadValue(f"int out of 64-bit range: {out}")
        return out

    def encode(self, value: int) -> bytes:
        return _LONG.pack(value)

    def decode(self, data: bytes) -> int:
        return _LONG.unpack(data)[0]

    def key_text(self, value: Any) -> str:
        if type(value) is not int:
            value = self.coerce(value)
        if value is None or value < 0:
            raise BadKey(f"an int key part must be a non-negative int, got {value!r}")
        text = str(value)
        if len(text) > self.key_width:
            raise BadKey(f"int key part {value} is wider than {self.key_width} digits")
        return text.zfill(self.key_width)


class Float(Codec):
    """IEEE double. NaN is a value (stored), None is no value (absent): the two stay apart.

    In keys: fixed ``key_decimals`` decimals, zero padded to ``key_width`` characters, so that
    non-negative floats sort numerically (jd = 2459507.8742361 → ``2459507.8742361``).
    """

    name = "float"
    exact_types = (float,)

    def __init__(self, key_decimals: int = 7, key_width: int = 0):
        self.key_decimals = key_decimals
        self.key_width = key_width
        self._key_format = f".{key_decimals}f"

    def coerce(self, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool):
            raise BadValue(f"expected a float, got a bool ({value!r})")
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise BadValue(f"expected a float, got {value!r}") from exc

    def encode(self, value: float) -> bytes:
        return _DOUBLE.pack(value)

    def decode(self, data: bytes) -> float:
        return _DOUBLE.unpack(data)[0]

    def key_text(self, value: Any) -> str:
        if type(value) is not float:
            value = self.coerce(value)
        if value is None or not 0.0 <= value < math.inf:  # NaN compares False
            raise BadKey(f"a float key part must be a finite non-negative number, got {value!r}")
        text = format(value, self._key_format)
        return text.zfill(self.key_width) if self.key_width else text


class Bool(Codec):
    name = "bool"
    exact_types = (bool,)

    def coerce(self, value: Any) -> bool | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if hasattr(value, "dtype") and value.dtype.kind == "b":  # numpy bool
            return bool(value)
        raise BadValue(f"expected a bool, got {value!r}")

    def encode(self, value: bool) -> bytes:
        return b"\x01" if value else b"\x00"

    def decode(self, data: bytes) -> bool:
        return data != b"\x00"


class Str(Codec):
    """Unicode text, UTF-8 in cells. In keys: the text itself (must not hold the separator)."""

    name = "str"
    exact_types = (str,)

    def coerce(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            return value
        raise BadValue(f"expected a str, got {type(value).__name__} ({value!r:.40})")

    def encode(self, value: str) -> bytes:
        return value.encode("utf-8")

    def decode(self, data: bytes) -> str:
        return data.decode("utf-8")

    def key_text(self, value: Any) -> str:
        if type(value) is not str:
            value = self.coerce(value)
        if not value:
            raise BadKey("a text key part must be a non-empty str")
        return value


class Bytes(Codec):
    name = "bytes"
    exact_types = (bytes,)

    def coerce(self, value: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise BadValue(f"expected bytes, got {type(value).__name__}")

    def encode(self, value: bytes) -> bytes:
        return value

    def decode(self, data: bytes) -> bytes:
        return bytes(data)


class Struct(Codec):
    """Nested lists and maps of scalars (an alert's ``prv_candidates``), msgpack encoded.

    Round-trips exactly: ints stay ints, NaN stays NaN and None stays None inside the structure,
    bytes stay bytes. Tuples come back as lists.
    """

    name = "struct"
    exact_types = (list, tuple, dict)

    def coerce(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, (list, tuple, dict)) or hasattr(value, "tolist"):
            return value
        raise BadValue(f"expected a list or a dict, got {type(value).__name__}")

    def encode(self, value: Any) -> bytes:
        return pack(value)

    def decode(self, data: bytes) -> Any:
        return unpack(data)


CODECS = {codec.name: codec for codec in (Int(), Float(), Bool(), Str(), Bytes(), Struct())}
"""One instance of each codec, by name (the schema row stores these names)."""
