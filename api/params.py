"""Parsing of the parameters Fink's API takes, as DRF serializer fields.

Each route declares a small input serializer deriving from :class:`FinkParamsSerializer` with the
fields below; :class:`api.views.FinkView` feeds it the merged GET query / POST body. A field's
error names the parameter as the client spelled it (``output-format``, not ``output_format``),
so the 400 body says which parameter was wrong and why.

Conventions shared by every field here: an empty string means "not given" (Fink scripts often
send ``columns=""`` or ``startdate=""``), so an optional parameter sent empty takes its default.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar

import astropy.units as u
from astropy.coordinates import Angle
from astropy.time import Time
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from .renderers import TABULAR_FORMATS

# Fink spells these parameters with a hyphen, which a Python attribute cannot hold: a serializer
# declares ``output_format`` and the client sees (and the errors and the OpenAPI schema name)
# ``output-format``. Validated data keeps the underscore name.
HYPHENATED_PARAMS: dict[str, str] = {
    "output_format": "output-format",
    "cutout_kind": "cutout-kind",
}

# A column is ``family:qualifier``: a short family (i, d, b, v, ...) and a name without commas,
# spaces or further colons (``v:g-r`` and ``b:cutoutScience_stampData`` are valid).
COLUMN_NAME = re.compile(r"^[A-Za-z_]+:[^\s,:]+$")

# Below this a date number is an MJD, above it a JD (the JD of 1858-11-17 is 2 400 000.5).
_JD_THRESHOLD = 2_400_000.0


class BlankIsMissing:
    """Field mixin: treat an empty or blank string as a parameter that was not sent."""

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if isinstance(data, str) and not data.strip():
            data = empty
        return super().validate_empty_values(data)  # type: ignore[misc]


@extend_schema_field(OpenApiTypes.BOOL)
class FinkBooleanField(BlankIsMissing, serializers.Field):
    """A boolean sent as JSON ``true``/``false`` or as ``"True"``, ``"false"``, ``"1"``, ``"0"``.

    Stricter than DRF's ``BooleanField`` (which also takes ``"yes"``, ``"on"``, ``"t"``...): a
    value Fink would not understand is an error rather than a guess.
    """

    TRUE = frozenset({"true", "1"})
    FALSE = frozenset({"false", "0"})
    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "must be true or false (got {value!r})"}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        if isinstance(data, int) and data in (0, 1):
            return bool(data)
        if isinstance(data, str):
            text = data.strip().lower()
            if text in self.TRUE:
                return True
            if text in self.FALSE:
                return False
        self.fail("invalid", value=data)

    def to_representation(self, value: bool) -> bool:
        return bool(value)


class OutputFormatField(BlankIsMissing, serializers.ChoiceField):
    """``output-format``: one of the tabular formats (json, csv, parquet, votable), default json.

    Parameters
    ----------
    formats : iterable of str, optional
        The formats this route offers (default: all of :data:`api.renderers.TABULAR_FORMATS`).
    """

    default_error_messages: ClassVar[dict[str, str]] = {"invalid_choice": "must be one of {choices} (got {input!r})"}

    def __init__(self, formats: Iterable[str] = TABULAR_FORMATS, **kwargs: Any) -> None:
        kwargs.setdefault("default", "json")
        kwargs.setdefault("help_text", "Format of the result: " + ", ".join(formats) + ".")
        super().__init__(choices=list(formats), **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = str(data).strip().lower()
        if text not in self.choices:
            self.fail("invalid_choice", choices=", ".join(self.choices), input=data)
        return text


@extend_schema_field({"type": "string", "example": "i:jd,i:magpsf"})
class ColumnsField(BlankIsMissing, serializers.Field):
    """``columns``: a comma list (or JSON list) of ``family:qualifier`` names.

    ``*`` or an empty value means all columns (the field is then absent from validated data).
    The result is a list of unique names in the order given.

    Parameters
    ----------
    allowed : iterable of str, or a callable returning one, optional
        The names the route knows; a callable is evaluated at validation time (the table
        declaration may not be importable when the serializer class is built). Without it only
        the syntax is checked, and the view may call :func:`check_columns` itself.
    require_family : bool
        Whether each name must carry a ``family:`` prefix (default True).
    """

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "must be a comma-separated list of column names (got {value!r})",
        "syntax": "column names are family:qualifier, such as i:jd (got {names})",
    }

    def __init__(
        self,
        *,
        allowed: Iterable[str] | Callable[[], Iterable[str]] | None = None,
        require_family: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "Comma-separated column names (family:qualifier, e.g. i:jd,i:magpsf); default all.",
        )
        super().__init__(**kwargs)
        self.allowed = allowed
        self.require_family = require_family

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            parts = data.split(",")
        elif isinstance(data, (list, tuple)) and all(isinstance(p, str) for p in data):
            parts = list(data)
        else:
            self.fail("invalid", value=data)
        names = list(dict.fromkeys(p.strip() for p in parts if p.strip()))
        if names == ["*"]:
            raise serializers.SkipField()
        if self.require_family:
            bad = [n for n in names if not COLUMN_NAME.match(n)]
            if bad:
                self.fail("syntax", names=", ".join(repr(n) for n in bad))
        if self.allowed is not None:
            allowed = self.allowed() if callable(self.allowed) else self.allowed
            _raise_unknown_columns(names, allowed)
        return names

    def to_representation(self, value: list[str]) -> str:
        return ",".join(value)


def _raise_unknown_columns(names: Iterable[str], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise serializers.ValidationError(
            f"unknown column(s): {', '.join(unknown)} (the schema route lists the columns)"
        )


def check_columns(columns: Iterable[str] | None, allowed: Iterable[str], *, param: str = "columns") -> None:
    """Raise a 400-bound ``ValidationError`` naming ``param`` if a column is not in ``allowed``.

    For views whose allowed columns depend on other parameters (``withcutouts`` adds ``b:``).

    Parameters
    ----------
    columns : iterable of str or None
        The validated ``columns`` parameter (None: all columns, always valid).
    allowed : iterable of str
        The column names the route can return.
    param : str
        The parameter named in the error.
    """
    if columns is None:
        return
    try:
        _raise_unknown_columns(columns, allowed)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({param: exc.detail}) from None


class _AngleField(BlankIsMissing, serializers.Field):
    """An angle in degrees or sexagesimal; the validated value is a float in degrees."""

    # How a colon- or space-separated value without unit letters is read (RA: hours, Dec: degrees).
    sexagesimal_unit: u.Unit = u.deg
    lower, upper = -math.inf, math.inf
    examples = ""
    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "cannot read {value!r} as an angle ({examples})",
        "range": "must be between {lower:g} and {upper:g} degrees (got {value:g})",
    }

    def to_internal_value(self, data: Any) -> float:
        degrees = self._parse(data)
        if not (self.lower <= degrees <= self.upper) or math.isnan(degrees):
            self.fail("range", lower=self.lower, upper=self.upper, value=degrees)
        return degrees

    def _parse(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid", value=data, examples=self.examples)
        if isinstance(data, (int, float)):
            return float(data)
        if not isinstance(data, str):
            self.fail("invalid", value=data, examples=self.examples)
        text = data.strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            if any(c.isalpha() or c in "°'\"" for c in text):
                # Units are written in the value (12h55m17s, 193d49m18s): astropy reads them.
                return float(Angle(text).to_value(u.deg))
            return float(Angle(text, unit=self.sexagesimal_unit).to_value(u.deg))
        except (ValueError, u.UnitsError, TypeError):
            self.fail("invalid", value=data, examples=self.examples)

    def to_representation(self, value: float) -> float:
        return float(value)


@extend_schema_field(
    {
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": 360, "description": "degrees"},
            {"type": "string", "description": "degrees, hh:mm:ss, hh mm ss, 12h55m17.218s or 193d49m18.267s"},
        ],
        "example": "217.7967",
    }
)
class RightAscensionField(_AngleField):
    """Right ascension: degrees (``193.822``), ``hh:mm:ss``, ``hh mm ss``, ``12h55m17.218s``,
    or ``193d49m18.267s``; validated to [0, 360] degrees."""

    sexagesimal_unit = u.hourangle
    lower, upper = 0.0, 360.0
    examples = "degrees, hh:mm:ss, hh mm ss, 12h55m17.218s or 193d49m18.267s"


@extend_schema_field(
    {
        "anyOf": [
            {"type": "number", "minimum": -90, "maximum": 90, "description": "degrees"},
            {"type": "string", "description": "degrees, dd:mm:ss, dd mm ss or +12d30m00s"},
        ],
        "example": "23.2191",
    }
)
class DeclinationField(_AngleField):
    """Declination: degrees (``-5.2``), ``dd:mm:ss``, ``dd mm ss`` or ``-05d12m00s``;
    validated to [-90, 90] degrees."""

    sexagesimal_unit = u.deg
    lower, upper = -90.0, 90.0
    examples = "degrees, dd:mm:ss, dd mm ss or +12d30m00s"


@extend_schema_field(
    {
        "anyOf": [
            {
                "type": "string",
                "description": "YYYY-MM-DD, YYYY-MM-DD hh:mm:ss or ISO 8601 (UTC unless a zone is given)",
            },
            {"type": "number", "minimum": 0, "description": "an MJD, or a JD (above 2 400 000)"},
        ],
        "example": "2021-11-22 12:00:00",
    }
)
class FinkDateField(BlankIsMissing, serializers.Field):
    """A UTC date: ``YYYY-MM-DD``, ``YYYY-MM-DD hh:mm:ss``, ISO 8601, or an MJD / JD number.

    A number below 2 400 000 is an MJD, above it a JD (as Fink tells them apart). Time zones in
    ISO strings are honoured; a time without one is UTC. The validated value is an
    ``astropy.time.Time`` (take ``.jd`` for row keys, ``.iso`` for display).
    """

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": (
            "cannot read {value!r} as a date (YYYY-MM-DD, YYYY-MM-DD hh:mm:ss, ISO 8601, "
            "MJD or JD)"
        ),
    }

    def to_internal_value(self, data: Any) -> Time:
        if isinstance(data, Time):
            return data.utc
        if isinstance(data, datetime):
            return Time(_naive_utc(data), scale="utc")
        if isinstance(data, date):
            return Time(datetime(data.year, data.month, data.day), scale="utc")
        if isinstance(data, bool):
            self.fail("invalid", value=data)
        if isinstance(data, (int, float)):
            return self._from_number(float(data), data)
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        text = data.strip()
        try:
            return self._from_number(float(text), data)
        except ValueError:
            pass
        try:
            # fromisoformat (3.11+) takes YYYY-MM-DD, a space or T separator, fractions and Z.
            return Time(_naive_utc(datetime.fromisoformat(text)), scale="utc")
        except ValueError:
            self.fail("invalid", value=data)

    def _from_number(self, number: float, raw: Any) -> Time:
        if not math.isfinite(number) or number < 0:
            self.fail("invalid", value=raw)
        fmt = "jd" if number >= _JD_THRESHOLD else "mjd"
        return Time(number, format=fmt, scale="utc")

    def to_representation(self, value: Time) -> str:
        return value.utc.iso


def _naive_utc(moment: datetime) -> datetime:
    """The same instant as a naive datetime in UTC (astropy wants naive UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


class FinkParamsSerializer(serializers.Serializer):
    """Base of every route's input serializer.

    - fields named in ``hyphenated`` are exposed under their hyphenated name (``output_format``
      is the parameter ``output-format``), and the underscore spelling is accepted as an alias;
    - "required" and "null" errors say "parameter" rather than DRF's "field".

    Validated data keeps the Python names (``params["output_format"]``).
    """

    hyphenated: dict[str, str] = HYPHENATED_PARAMS

    def get_fields(self) -> dict[str, serializers.Field]:
        public_fields = {}
        for name, field in super().get_fields().items():
            public = self.hyphenated.get(name, name)
            if public != name and field.source is None:
                field.source = name
            field.error_messages = {
                **field.error_messages,
                "required": "this parameter is required",
                "null": "this parameter may not be null",
            }
            public_fields[public] = field
        return public_fields

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping):
            # A QueryDict's item is its last value; a plain dict is copied as is.
            data = {key: data[key] for key in data}
            aliases = {
                name: public
                for name, public in self.hyphenated.items()
                if name in data and public not in data
            }
            for name, public in aliases.items():
                data[public] = data.pop(name)
            _refuse_surrogates(data, self.fields)
        return super().to_internal_value(data)


# A lone UTF-16 surrogate (a JSON body may escape one: "\ud800") is not text any encoder takes.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(data: Mapping[str, Any], fields: Mapping[str, Any]) -> None:
    """Raise a 400-bound error naming each parameter whose text holds a lone surrogate.

    Checked here, once for every route: DRF's ``CharField`` refuses them, but the custom fields
    (object ids, columns, catalogues) would pass them on to a store key or a parser, which
    cannot encode them (a 500).
    """
    errors = {}
    for name, value in data.items():
        texts = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else ()
        found = next((m for t in texts if isinstance(t, str) and (m := _SURROGATE.search(t))), None)
        if found and name in fields:
            errors[name] = [f"surrogate characters are not allowed (U+{ord(found.group()):04X})"]
    if errors:
        raise serializers.ValidationError(errors)
