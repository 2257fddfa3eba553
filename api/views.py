"""The base of every API route (:class:`FinkView`) and the trivial ``ping`` route.

A route is one ``FinkView`` subclass: an ``input_serializer`` (fields from :mod:`api.params`) and a
``perform(params)`` that calls one selector and returns rows. Everything else is here, the same for
every route: GET query and POST body read alike, parameter errors as 400 JSON, the rows rendered
by ``output-format`` through :mod:`api.renderers`, truncation said in headers, OpenAPI from the
serializer (:mod:`api.schema`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.http import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .renderers import TABULAR_RENDERERS, JSONRenderer, as_table_result
from .schema import FinkAutoSchema


class FirstRendererNegotiation(BaseContentNegotiation):
    """Ignore the ``Accept`` header: answer with the view's first renderer (JSON).

    Fink chooses the format by the ``output-format`` parameter only; a script sending
    ``Accept: text/csv`` must not get a 406. :class:`FinkView` switches renderer for rows.
    """

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return DefaultContentNegotiation().select_parser(request, parsers)

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type


def request_params(data: Any) -> dict[str, Any]:
    """Query parameters or a body as a plain dict; a repeated key keeps its last value."""
    if not isinstance(data, Mapping):
        raise serializers.ValidationError("the request body must be a JSON object of parameters")
    # A QueryDict's item is its last value (and multipart files are merged into request.data).
    return {key: data[key] for key in data}


class FinkView(APIView):
    """Base of an API route: parse parameters, ``perform``, render the rows.

    Subclasses set
    ``input_serializer``
        a :class:`api.params.FinkParamsSerializer` subclass (None: the route takes no parameter);
    ``output_serializer``
        optional, only to describe the JSON rows in the OpenAPI schema;
    ``row_methods``
        the methods answering rows (default GET and POST): the others describe their answer
        (one JSON object, a file) with ``@extend_schema``;
    ``response_headers``
        ``OpenApiParameter`` headers the view adds to its rows, for the OpenAPI schema;
    and implement :meth:`perform`.

    GET reads the query string; POST reads the query string then the body (JSON object, form or
    multipart: the body wins), so both give the same ``params``.
    """

    input_serializer: type[serializers.Serializer] | None = None
    output_serializer: type[serializers.Serializer] | None = None
    row_methods: ClassVar[tuple[str, ...]] = ("GET", "POST")
    response_headers: ClassVar[list[OpenApiParameter]] = []

    # JSON first: errors and non-tabular answers are JSON whatever output-format says.
    renderer_classes: ClassVar[list[type]] = list(TABULAR_RENDERERS.values())
    parser_classes: ClassVar[list[type]] = [JSONParser, FormParser, MultiPartParser]
    content_negotiation_class = FirstRendererNegotiation
    schema = FinkAutoSchema()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return self.respond(request_params(request.query_params))

    def post(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return self.respond({**request_params(request.query_params), **request_params(request.data)})

    def parse_params(self, data: dict[str, Any]) -> dict[str, Any]:
        """Validate the raw parameters with ``input_serializer``.

        Raises
        ------
        rest_framework.exceptions.ValidationError
            Turned into a 400 naming the parameter by :func:`api.errors.exception_handler`.
        """
        if self.input_serializer is None:
            return {}
        serializer = self.input_serializer(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def perform(self, params: dict[str, Any]) -> Any:
        """Do the route's work with validated ``params``.

        Returns
        -------
        list of dict, pyarrow.Table, pandas.DataFrame or api.tabular.TableResult
            Rows, rendered by ``output-format``; wrap them in ``TableResult`` to say they were
            cut at a cap.
        dict
            Rendered as one JSON object (``classes``, ``schema``).
        django.http.HttpResponse or rest_framework.response.Response
            Returned as is (a PNG, a FITS file).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement perform(params)")

    def respond(self, data: dict[str, Any]) -> HttpResponseBase:
        params = self.parse_params(data)
        result = self.perform(params)
        if isinstance(result, HttpResponseBase):
            return result
        if isinstance(result, Mapping):
            return Response(result)
        return self.rows_response(as_table_result(result), params.get("output_format") or "json")

    def rows_response(self, result: Any, output_format: str) -> Response:
        """Rows rendered in ``output_format``: the renderer is switched on the request, which
        is where DRF's ``finalize_response`` takes it from."""
        renderer = next((r for r in self.get_renderers() if r.format == output_format), None)
        if renderer is None:
            raise serializers.ValidationError({"output-format": f"rows cannot be given as {output_format!r}"})
        self.request.accepted_renderer = renderer
        self.request.accepted_media_type = renderer.media_type
        return Response(result)


class Ping(APIView):
    """Answer `{"status": "ok"}`: a liveness check, and the floor of request overhead in
    benchmarks (it goes through the same authentication, throttling and rendering as a route)."""

    renderer_classes: ClassVar[list[type]] = [JSONRenderer]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        responses=inline_serializer("Ping", {"status": serializers.ChoiceField(choices=["ok"])}),
        operation_id="ping_get",
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})
