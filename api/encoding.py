"""The API's one JSON encoder (orjson), used by the json renderer and wherever JSON text is needed.

orjson writes NaN and ±infinity as ``null`` and encodes numpy arrays natively; what it cannot
encode by itself is handled by :func:`orjson_default`.
"""
from __future__ import annotations

import base64
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import orjson
import pandas as pd
from django.utils.functional import Promise

_ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY
# Non-str keys (an int-keyed dict) are accepted too, but orjson is a third slower on every key
# with that option: it is only used when the fast pass refuses a key.
_ORJSON_ANY_KEYS = _ORJSON_OPTIONS | orjson.OPT_NON_STR_KEYS


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
    try:
        return orjson.dumps(data, default=orjson_default, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return orjson.dumps(data, default=orjson_default, option=_ORJSON_ANY_KEYS)


def null_filled_template(present: Sequence[str], names: Sequence[str]) -> dict[str, Any]:
    """A record template for rows holding only the ``present`` columns of ``names``.

    ``template.copy()`` updated with such a row encodes (:func:`dumps_json`) to the same bytes as
    the row with every one of ``names`` (null where absent), in that order, but each run of
    consecutive absent columns is one pre-encoded :class:`orjson.Fragment` (``null,"b":null,...``)
    under the run's first name instead of one key per null. Light curves with upper limits are
    mostly such nulls: each row holds ~30 of ~170 columns.
    """
    held = set(present)
    template: dict[str, Any] = {}
    run: list[str] = []

    def close_run() -> None:
        if len(run) == 1:
            template[run[0]] = None
        elif run:
            tail = b"".join(b"," + orjson.dumps(name) + b":null" for name in run[1:])
            template[run[0]] = orjson.Fragment(b"null" + tail)
        run.clear()

    for name in names:
        if name in held:
            close_run()
            template[name] = None
        else:
            run.append(name)
    close_run()
    return template


def json_text(value: Any) -> str:
    """A value as the JSON text the json output carries for it (for CSV / VOTable cells)."""
    return dumps_json(value).decode()
