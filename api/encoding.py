"""The API's one JSON encoder (orjson), used by the json renderer and wherever JSON text is needed.

orjson writes NaN and ±infinity as ``null`` and encodes numpy arrays natively; what it cannot
encode by itself is handled by :func:`orjson_default`.
"""
from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import pandas as pd
from django.utils.functional import Promise

_ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def orjson_default(value: Any) -> Any:
    """What orjson cannot encode by itself: bytes, pandas/astropy scalars, lazy strings, ...

    Raises
    ------
    TypeError
        For a type with no sensible JSON form (orjson turns it into ``JSONEncodeError``).
    """
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, np.ndarray):  # object-dtype arrays, which OPT_SERIALIZE_NUMPY refuses
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Promise):  # a lazy translation string in an error message
        return str(value)
    if hasattr(value, "iso") and hasattr(value, "jd"):  # astropy Time, without importing it here
        return value.utc.isot
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps_json(data: Any) -> bytes:
    """Encode ``data`` (records, dicts, numpy values) as JSON bytes, the API's one JSON encoder."""
    return orjson.dumps(data, default=orjson_default, option=_ORJSON_OPTIONS)


def json_text(value: Any) -> str:
    """A value as the JSON text the json output carries for it (for CSV / VOTable cells)."""
    return dumps_json(value).decode()
