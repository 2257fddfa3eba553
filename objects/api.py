"""The ``objects`` and ``cutouts`` API routes (Fink's, same parameters; see docs FINK_API.md).

Each route is one :class:`api.views.FinkView`: an input serializer, then one selector call.
"""
from __future__ import annotations

import math
import re
from typing import Any, ClassVar

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.response import Response

from alerts.selectors.objects import (
    ALL_CUTOUTS,
    CUTOUT_COLUMNS,
    CUTOUT_KINDS,
    MAX_ROWS_PER_TABLE,
    UnreadableCutout,
    alerts_of_object,
    cutout_array,
    cutout_pixels,
    cutouts_of_alert,
    fits_bytes,
    object_columns,
)
from api.params import (
    BlankIsMissing,
    ColumnsField,
    FinkBooleanField,
    FinkParamsSerializer,
    OutputFormatField,
    check_columns,
)
from api.schema import ERROR_RESPONSES
from api.tabular import TableResult
from api.views import FinkView

from .cutout_images import (
    DEFAULT_PMAX,
    DEFAULT_PMIN,
    KERNELS,
    STRETCHES,
    is_colormap,
    render_options_png,
)

#: Object ids one ``objects`` request may name (each is one prefix scan per table).
MAX_OBJECT_IDS = 1000


# -- parameter fields ----------------------------------------------------------------------------
class NameChoiceField(BlankIsMissing, serializers.ChoiceField):
    """One of a few names, matched without regard to case and returned as spelled in ``choices``
    (``science`` → ``Science``, ``png`` → ``PNG``)."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid_choice": "must be one of {choices} (got {input!r})"}

    def to_internal_value(self, data: Any) -> str:
        text = str(data).strip().lower()
        for choice in self.choices:
            if str(choice).lower() == text:
                return choice
        self.fail("invalid_choice", choices=", ".join(map(str, self.choices)), input=data)


@extend_schema_field({"type": "string", "example": "ZTF18aaqfhlj"})
class ObjectIdsField(BlankIsMissing, serializers.Field):
    """``objectId``: one id or a comma list (or a JSON list); the validated value is a list of
    unique ids in the order given."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "must be a ZTF object id or a comma-separated list of them (got {value!r})",
        "too_many": "at most {limit} object ids per request (got {count})",
    }

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            parts = data.split(",")
        elif isinstance(data, (list, tuple)) and all(isinstance(p, str) for p in data):
            parts = list(data)
        else:
            self.fail("invalid", value=data)
        ids = list(dict.fromkeys(p.strip() for p in parts if p.strip()))
        if not ids:
            self.fail("invalid", value=data)
        if len(ids) > MAX_OBJECT_IDS:
            self.fail("too_many", limit=MAX_OBJECT_IDS, count=len(ids))
        return ids

    def to_representation(self, value: list[str]) -> str:
        return ",".join(value)


@extend_schema_field({"type": "string", "example": "ZTF18aaqfhlj"})
class ObjectIdField(BlankIsMissing, serializers.CharField):
    """``objectId`` of one object."""


class CandidField(BlankIsMissing, serializers.IntegerField):
    """``candid``: an alert id (a long integer, sent as a number or a string)."""


class PercentileField(BlankIsMissing, serializers.FloatField):
    """A percentile between 0 and 100."""

    default_error_messages: ClassVar[dict[str, str]] = {"range": "must be a percentile between 0 and 100 (got {value!r})"}

    def to_internal_value(self, data: Any) -> float:
        value = super().to_internal_value(data)
        if not (math.isfinite(value) and 0.0 <= value <= 100.0):
            self.fail("range", value=data)
        return value


class ColormapField(BlankIsMissing, serializers.CharField):
    """``colormap``: a matplotlib colour map name (``viridis``, ``Greys``, ``Blues_r``...)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "unknown": "unknown matplotlib colour map {value!r} (e.g. viridis, Greys, Blues, magma)"
    }

    def to_internal_value(self, data: Any) -> str:
        name = super().to_internal_value(data).strip()
        if not is_colormap(name):
            self.fail("unknown", value=name)
        return name


# -- objects -------------------------------------------------------------------------------------
class ObjectsParams(FinkParamsSerializer):
    objectId = ObjectIdsField(
        help_text="A ZTF object id, or a comma-separated list, e.g. ZTF21abfmbix,ZTF19acmdpyr."
    )
    withupperlim = FinkBooleanField(
        default=False,
        help_text="Add upper limits and bad-quality points; `d:tag` tells the rows apart "
        "(valid, upperlim, badquality) and these rows have `i:candid` = -1.",
    )
    withcutouts = FinkBooleanField(
        default=False, help_text="Add the stamps (see cutout-kind) as 2-D arrays."
    )
    cutout_kind = NameChoiceField(
        choices=[ALL_CUTOUTS, *CUTOUT_KINDS],
        default=ALL_CUTOUTS,
        help_text="Stamps added by withcutouts: All (default), Science, Template or Difference.",
    )
    columns = ColumnsField(
        help_text="Comma-separated columns, e.g. i:jd,i:magpsf,i:fid; default all, with the `v:` "
        "columns (computed ones are returned only when named or when columns is not given)."
    )
    output_format = OutputFormatField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        allowed = object_columns(
            with_upper_limits=attrs["withupperlim"], with_cutouts=attrs["withcutouts"]
        )
        check_columns(attrs.get("columns"), allowed)
        return attrs


class Objects(FinkView):
    """Every alert of one or more objects, newest first (Fink's ``objects``).

    An unknown object gives no rows (``[]``).
    """

    input_serializer = ObjectsParams

    def perform(self, params: dict[str, Any]) -> TableResult:
        rows = alerts_of_object(
            object_ids=params["objectId"],
            columns=params.get("columns"),
            with_upper_limits=params["withupperlim"],
            with_cutouts=params["withcutouts"],
            cutout_kind=params["cutout_kind"],
            padded=False,
        )
        # Rows as read, and the columns they are to fill: the renderers fill the gaps (a light
        # curve's upper limits hold ~30 of ~170 columns) without a padded copy of every row.
        return TableResult(rows, columns=rows.columns, truncated=rows.truncated, limit=MAX_ROWS_PER_TABLE)


# -- cutouts -------------------------------------------------------------------------------------
class CutoutsParams(FinkParamsSerializer):
    objectId = ObjectIdField(help_text="A ZTF object id, e.g. ZTF21aaxtctv.")
    kind = NameChoiceField(
        choices=[*CUTOUT_KINDS, ALL_CUTOUTS],
        help_text="Science, Template or Difference; All (the three) with output-format=array.",
    )
    output_format = NameChoiceField(
        choices=["PNG", "FITS", "array"],
        default="PNG",
        help_text="PNG (default), FITS (the stamp's FITS file, not gzipped) or array (JSON "
        "{column: 2-D list}).",
    )
    candid = CandidField(
        required=False, help_text="The alert (its candid); default: the latest with stamps."
    )
    stretch = NameChoiceField(
        choices=list(STRETCHES),
        default="sigmoid",
        help_text="PNG stretch: sigmoid (default), linear, sqrt, power or log.",
    )
    colormap = ColormapField(
        required=False, help_text="A matplotlib colour map name; default greyscale."
    )
    pmin = PercentileField(
        default=DEFAULT_PMIN, help_text="Percentile of the lower cut (not for sigmoid)."
    )
    pmax = PercentileField(
        default=DEFAULT_PMAX, help_text="Percentile of the upper cut (not for sigmoid)."
    )
    convolution_kernel = NameChoiceField(
        choices=list(KERNELS), default="none", help_text="Smoothing: none (default), gauss or box."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["kind"] == ALL_CUTOUTS and attrs["output_format"] != "array":
            raise serializers.ValidationError(
                {"kind": "All is only available with output-format=array (a PNG or FITS file "
                 "holds one stamp)"}
            )
        if attrs["pmin"] >= attrs["pmax"]:
            raise serializers.ValidationError(
                {"pmin": f"must be lower than pmax (got pmin={attrs['pmin']:g}, "
                         f"pmax={attrs['pmax']:g})"}
            )
        return attrs


# One description for the three: spectacular keeps one per status code.
_CUTOUT_ANSWER = (
    "By output-format: PNG, the stamp's FITS file (not gzipped), or array (JSON "
    "{b:cutout<Kind>_stampData: 2-D list, or null when that stamp is missing}). `[]` (JSON), "
    "whatever the format, when the object (or that alert) has no stamp."
)
_STAMP_ARRAYS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "array"}, "nullable": True},
}
_CUTOUT_RESPONSES = {
    (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description=_CUTOUT_ANSWER),
    (200, "application/fits"): OpenApiResponse(OpenApiTypes.BINARY, description=_CUTOUT_ANSWER),
    (200, "application/json"): OpenApiResponse(
        {"anyOf": [_STAMP_ARRAYS, {"type": "array", "maxItems": 0}]}, description=_CUTOUT_ANSWER
    ),
    **ERROR_RESPONSES,
}


@extend_schema_view(
    get=extend_schema(responses=_CUTOUT_RESPONSES),
    post=extend_schema(responses=_CUTOUT_RESPONSES),
)
class Cutouts(FinkView):
    """One stamp of an alert as a PNG, a FITS file or arrays (Fink's ``cutouts``).

    The alert is the one with ``candid``, or the object's latest alert with stamps. An unknown
    object, or one without stamps, gives ``[]`` (JSON) whatever the format.
    """

    input_serializer = CutoutsParams
    row_methods = ()  # a file or arrays, described by _CUTOUT_RESPONSES

    def perform(self, params: dict[str, Any]) -> Any:
        object_id, kind, fmt = params["objectId"].strip(), params["kind"], params["output_format"]
        kinds = CUTOUT_KINDS if kind == ALL_CUTOUTS else (kind,)
        found = cutouts_of_alert(object_id=object_id, kinds=kinds, candid=params.get("candid"))
        if found is None or not any(found.stamps.values()):
            return Response([])
        try:
            if fmt == "array":
                return {
                    CUTOUT_COLUMNS[k]: _array_or_none(found.stamps[k]) for k in kinds
                }
            stamp = found.stamps[kind]
            if not stamp:
                return Response([])
            if fmt == "FITS":
                return _attachment(fits_bytes(stamp), "application/fits", f"{object_id}_{kind}.fits", found.candid)
            png = render_options_png(cutout_pixels(stamp), params)
        except UnreadableCutout:
            return Response([])  # a damaged stamp is no stamp
        return _attachment(png, "image/png", f"{object_id}_{kind}.png", found.candid)


def _array_or_none(stamp: bytes | None) -> list | None:
    if not stamp:
        return None
    try:
        return cutout_array(stamp)
    except UnreadableCutout:
        return None


def _attachment(content: bytes, content_type: str, filename: str, candid: int | None) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    safe_name = re.sub(r"[^A-Za-z0-9_.+-]", "_", filename)  # the id comes from the client
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    if candid is not None:
        response["X-Candid"] = str(candid)  # which alert the stamp is of, when none was named
    return response


__all__ = ["Cutouts", "CutoutsParams", "Objects", "ObjectsParams"]
