"""OpenAPI description of the routes built on :class:`api.views.FinkView` (drf-spectacular).

A route's parameters are declared once, in its input serializer; this schema class derives from
it both the GET query parameters and the POST body (JSON, form or multipart), the four response
media types chosen by ``output-format``, the truncation headers and the error responses. A route
needs no ``@extend_schema`` unless it returns something else than rows (a PNG, a dict).
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .params import FinkParamsSerializer
from .renderers import (
    LIMIT_HEADER,
    TRUNCATED_HEADER,
    CSVRenderer,
    JSONRenderer,
    ParquetRenderer,
    VOTableRenderer,
)


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    status = serializers.ChoiceField(choices=["error"])
    text = serializers.CharField(help_text="What went wrong, naming the parameter at fault.")

    class Meta:
        ref_name = "Error"


TRUNCATION_HEADERS = [
    OpenApiParameter(
        TRUNCATED_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        enum=["true"],
        description="Present (`true`) when the rows were cut at a cap: more rows matched.",
    ),
    OpenApiParameter(
        LIMIT_HEADER,
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=[200],
        description="The cap that cut the rows (present with X-Result-Truncated).",
    ),
]

# Rows as JSON when the route has no output serializer: records with free-form columns.
ROWS_SCHEMA = {
    "type": "array",
    "items": {"type": "object", "additionalProperties": True},
    "description": "One record per row, keyed by column name (family:qualifier).",
}

# Errors are JSON whatever output-format asked for.
ERROR_RESPONSES = {
    (400, JSONRenderer.media_type): OpenApiResponse(
        ErrorSerializer, description="A parameter is missing or wrong."
    ),
    (401, JSONRenderer.media_type): OpenApiResponse(
        ErrorSerializer, description="The `Authorization` header holds no valid token."
    ),
    (413, JSONRenderer.media_type): OpenApiResponse(
        ErrorSerializer,
        description="The request body is larger than the server accepts: send big inputs as a "
        "multipart file upload.",
    ),
    (429, JSONRenderer.media_type): OpenApiResponse(
        ErrorSerializer, description="Too many requests for the client's tier."
    ),
    (503, JSONRenderer.media_type): OpenApiResponse(
        ErrorSerializer, description="The alert store is unavailable."
    ),
}


class FinkAutoSchema(AutoSchema):
    """Schema of a FinkView: parameters from ``input_serializer``, rows in four formats."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        serializer = getattr(self.view, "input_serializer", None)
        if serializer is not None and self.method == "GET":
            parameters.append(serializer)  # exploded into one query parameter per field
        if self.method in getattr(self.view, "row_methods", ("GET", "POST")):
            parameters += [*getattr(self.view, "response_headers", []), *TRUNCATION_HEADERS]
        return parameters

    def get_request_serializer(self) -> Any:
        if self.method == "POST":
            return getattr(self.view, "input_serializer", None)
        return None

    def get_response_serializers(self) -> Any:
        output = getattr(self.view, "output_serializer", None)
        rows = output(many=True) if output is not None else ROWS_SCHEMA
        described = "Rows in the format chosen by `output-format` (default json)."
        return {
            (200, JSONRenderer.media_type): OpenApiResponse(rows, description=described),
            (200, CSVRenderer.media_type): OpenApiResponse(OpenApiTypes.STR, description=described),
            (200, ParquetRenderer.media_type): OpenApiResponse(OpenApiTypes.BINARY, description=described),
            (200, VOTableRenderer.media_type): OpenApiResponse(OpenApiTypes.STR, description=described),
            **ERROR_RESPONSES,
        }

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        schema = super()._map_basic_serializer(serializer, direction)
        if isinstance(serializer, FinkParamsSerializer) and not vars(type(serializer)).get("__doc__"):
            # Not the base class's docstring (how parameters are parsed, for developers).
            schema["description"] = "The route's parameters (the same as its GET query parameters)."
        return schema

    def get_operation_id(self) -> str:
        # objects_get / objects_post rather than spectacular's objects_retrieve / objects_create:
        # a POST here searches, it creates nothing.
        return "_".join([*self._tokenize_path(), self.method.lower()]).replace("-", "_")

    def map_renderers(self, attribute: str) -> list[Any]:
        # No ?format= parameter: the format is chosen by output-format, documented per route.
        if attribute == "format":
            return []
        return super().map_renderers(attribute)


def optional_slash_paths(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """drf-spectacular preprocessing hook: document ``fink_path`` routes without their slash.

    ``fink_path("objects", ...)`` matches ``objects`` and ``objects/``; spectacular would print
    the regex as ``/api/v1/objects/``, while Fink's clients (and our docs) call ``/api/v1/objects``.
    """
    result = []
    for path, path_regex, method, callback in endpoints:
        if path_regex.endswith("/?$") and path.endswith("/"):
            path = path.rstrip("/")
        result.append((path, path_regex, method, callback))
    return result
