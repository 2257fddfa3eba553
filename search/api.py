"""The search routes of the REST API (``docs/FINK_API.md``), one class per route.

Each view parses its parameters with a serializer of :mod:`search.serializers`, calls one selector
of :mod:`alerts.selectors.search` and returns its rows; :class:`api.views.FinkView` renders them by
``output-format`` and says when they were cut at a cap. Search routes also report what they read:
``X-Rows-Scanned`` (index rows read) beside ``X-Rows-Returned``.
"""
from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from alerts.selectors import search as selectors
from api.schema import ERROR_RESPONSES, ErrorSerializer
from api.tabular import TableResult
from api.views import FinkView, request_params

from . import serializers as params
from . import sso_names
from .models import annotation_save, annotations_find

SCANNED_HEADER = "X-Rows-Scanned"
RETURNED_HEADER = "X-Rows-Returned"
RESOLVER_HEADER = "X-Resolver-Source"


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = f" ({limit / 2**20:.1f} MB)" if limit else ""
        super().__init__(
            f"the request body is larger than the server accepts{size}: send a large catalogue "
            "or sky map as a file (multipart upload)"
        )


def _header(name: str, description: str, kind: OpenApiTypes = OpenApiTypes.INT) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.HEADER, response=[200], description=description)


def _json_answer(schema: dict[str, Any], description: str) -> Any:
    """``@extend_schema`` of a route answering one JSON object, by GET and POST alike."""
    responses = {
        (200, "application/json"): OpenApiResponse(schema, description=description),
        **ERROR_RESPONSES,
    }
    return extend_schema_view(get=extend_schema(responses=responses), post=extend_schema(responses=responses))


class SearchView(FinkView):
    """A search route: a selector's :class:`SearchError` is a 400 naming the parameter, and the
    response says how many index rows were read for how many returned."""

    found: selectors.SearchRows | None = None
    response_headers: ClassVar[list[OpenApiParameter]] = [
        _header(SCANNED_HEADER, "Index rows the search read."),
        _header(RETURNED_HEADER, "Rows in the answer."),
    ]

    def respond(self, data: dict[str, Any]):
        self.found = None
        try:
            response = super().respond(data)
        except selectors.SearchError as exc:
            raise ValidationError({exc.param: [str(exc)]}) from None
        if self.found is not None:
            response[SCANNED_HEADER] = str(self.found.scanned)
            response[RETURNED_HEADER] = str(len(self.found.rows))
            # The view and its response refer to each other (DRF): rows kept here would live
            # until a full garbage collection (see TableResult.release).
            self.found = None
        return response

    def handle_exception(self, exc: Exception):
        # Django refuses a body (or form field) above DATA_UPLOAD_MAX_MEMORY_SIZE while DRF parses
        # it; api.errors does not know that exception yet, so it would be a 500.
        if isinstance(exc, RequestDataTooBig):
            exc = BodyTooLarge()
        return super().handle_exception(exc)

    def table(self, found: selectors.SearchRows) -> TableResult:
        self.found = found
        return TableResult(found.rows, truncated=found.truncated, limit=found.limit)


def _jd(value) -> float | None:
    return None if value is None else float(value.jd)


class ConeSearch(SearchView):
    """The latest alert of each object within ``radius`` arcseconds of (ra, dec), nearest first,
    with ``v:separation_degree``. Dates (startdate, stopdate or window) apply to the object's
    first detection (``i:jdstarthist``)."""

    input_serializer = params.ConeSearchParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        first_min = _jd(p.get("startdate"))
        first_max = _jd(p.get("stopdate"))
        if "window" in p:
            first_max = first_min + p["window"]
        return self.table(
            selectors.alerts_in_cone(
                ra=p["ra"], dec=p["dec"], radius_arcsec=p["radius"], n=p["n"],
                first_jd_min=first_min, first_jd_max=first_max, columns=p.get("columns"),
            )
        )


class Latests(SearchView):
    """The ``n`` newest alerts of a class (Fink class, ``(SIMBAD) label`` or ``(TNS) type``)."""

    input_serializer = params.LatestsParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        return self.table(
            selectors.latest_alerts_of_class(
                class_name=p["class_name"], n=p["n"], jd_min=_jd(p.get("startdate")),
                jd_max=_jd(p.get("stopdate")), trend=p.get("trend"), color=p["color"],
                columns=p.get("columns"),
            )
        )


@_json_answer(
    {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    "Class names by origin (Fink classifiers, TNS, SIMBAD).",
)
class Classes(SearchView):
    """The class names ``latests`` takes, grouped by origin (one JSON object)."""

    row_methods = ()

    def perform(self, p: dict[str, Any]) -> dict[str, list[str]]:
        return selectors.class_names()


class Sso(SearchView):
    """Every alert of Solar System objects (numbers or designations as ZTF writes them, or names
    of numbered asteroids), with ``sso_name`` and ``sso_number``. Names are resolved offline, from
    the MPC's list an operator loads (``manage.py load_sso_names``; no SsODNet call): a name not
    in it matches nothing."""

    input_serializer = params.SsoParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        found = selectors.alerts_of_asteroids(
            names=sso_names.sso_search_names(p["names"]), columns=p.get("columns"),
            cutout_kind=p["cutout_kind"] if p["withcutouts"] else None,
        )
        sso_names.with_asteroid_names(found.rows)
        return self.table(found)


class SsoCand(SearchView):
    """Fink-FAT candidate orbits (``orbParams``) or trajectory points (``lightcurves``)."""

    input_serializer = params.SsoCandParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        return self.table(
            selectors.sso_candidates(
                kind=p["kind"], candidate_id=p.get("ssoCandId"), jd_min=_jd(p.get("start_date")),
                jd_max=_jd(p.get("stop_date")), max_rows=p["maxnumber"],
            )
        )


class Tracklet(SearchView):
    """Alerts of the tracklets with this id (or id prefix), or of the tracklets of a date."""

    input_serializer = params.TrackletParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        prefix = selectors.tracklet_prefix(tracklet_id=p.get("id"), date=p.get("date"))
        return self.table(selectors.alerts_of_tracklets(prefix=prefix, columns=p.get("columns")))


@_json_answer(
    {
        "type": "object",
        "additionalProperties": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"type": {"type": "string"}, "doc": {"type": "string"}},
            },
        },
    },
    "Columns by family: column name -> {type, doc}.",
)
class Schema(SearchView):
    """Every column with its type and description, grouped by family (one JSON object)."""

    row_methods = ()

    def perform(self, p: dict[str, Any]) -> dict[str, Any]:
        return selectors.alert_schema()


class Statistics(SearchView):
    """Per-night counts: alerts (``basic:sci``), objects, and alerts per class (``class:<name>``)."""

    input_serializer = params.StatisticsParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        return self.table(selectors.night_statistics(date=p["date"], columns=p.get("columns")))


class Anomaly(SearchView):
    """The ``n`` alerts with the lowest anomaly scores (most anomalous first) in the dates given;
    stop_date's whole day is included, as in Fink."""

    input_serializer = params.AnomalyParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        stop = _jd(p.get("stop_date"))
        return self.table(
            selectors.anomalous_alerts(
                n=p["n"], jd_min=_jd(p.get("start_date")), jd_max=None if stop is None else stop + 1,
                columns=p.get("columns"),
            )
        )


class Resolver(SearchView):
    """Name <-> ZTF object look-ups, **offline**: from the alerts the portal holds, without calling
    SsODNet, TNS or SIMBAD. ``ssodnet`` matches asteroid numbers and designations, and names of
    numbered asteroids from the MPC's list an operator loads (``manage.py load_sso_names``);
    ``tns`` and ``simbad`` match the type the alerts' cross-matches gave (``SN Ia``, ``QSO``), not
    catalogue names. The response header ``X-Resolver-Source`` says so."""

    input_serializer = params.ResolverParams
    response_headers: ClassVar[list[OpenApiParameter]] = [
        *SearchView.response_headers,
        _header(RESOLVER_HEADER, "Where the names came from (offline: the alerts held here).", OpenApiTypes.STR),
    ]

    def perform(self, p: dict[str, Any]) -> TableResult:
        if p["resolver"] == "ssodnet":
            return self.table(sso_names.ssodnet_resolve(name=p["name"], reverse=p["reverse"], nmax=p["nmax"]))
        return self.table(
            selectors.resolve_name(resolver=p["resolver"], name=p["name"], reverse=p["reverse"], nmax=p["nmax"])
        )

    def respond(self, data: dict[str, Any]):
        response = super().respond(data)
        source = "alerts held by this portal"
        if data.get("resolver") == "ssodnet":
            source += " and the MPC's asteroid names loaded here"
        response[RESOLVER_HEADER] = f"offline: {source} (no outside service called)"
        return response


class Random(SearchView):
    """Every alert of ``n`` (at most 16) objects drawn at random, of a class or of all; the same
    ``seed`` on the same data gives the same objects."""

    input_serializer = params.RandomParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        return self.table(
            selectors.alerts_of_random_objects(
                n=p["n"], class_name=p.get("class_name"), seed=p.get("seed"), columns=p.get("columns")
            )
        )


class Skymap(SearchView):
    """Objects first detected from ``n_day_before`` days before to ``n_day_after`` days after a
    gravitational-wave event, inside the map's ``credible_level`` region; the latest alert of the
    window per object, with ``v:jdstartgw`` (the event time, from the map's DATE-OBS)."""

    input_serializer = params.SkymapParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        sky_map = p["bayestar"]
        return self.table(
            selectors.alerts_in_sky_map(
                uniq=sky_map.uniq, probability_density=sky_map.probability_density,
                credible_level=p["credible_level"], event_jd=sky_map.event_jd,
                days_before=p["n_day_before"], days_after=p["n_day_after"], columns=p.get("columns"),
            )
        )


class Xmatch(SearchView):
    """For each row of an uploaded catalogue (at most 100,000 rows), the objects with an alert
    within ``radius`` arcseconds (and ``window`` days centred on the row's time): the row's own
    columns, the latest matching alert's columns and ``v:separation_degree``."""

    input_serializer = params.XmatchParams

    def perform(self, p: dict[str, Any]) -> TableResult:
        catalog = p["catalog"]
        return self.table(
            selectors.alerts_matching_catalog(
                rows=catalog.rows, ra=catalog.ra, dec=catalog.dec, jd=catalog.jd,
                radius_arcsec=p["radius"], window_days=p.get("window"), columns=p.get("columns"),
            )
        )


class Metadata(FinkView):
    """Users' names and comments for objects. GET: by ``objectId`` or ``internal_name``, anyone.
    POST: ``objectId``, ``internal_name``, ``comments`` — logged-in users and API tokens only (Fink
    lets anyone write); a user's new post about an object replaces their previous one."""

    input_serializer = params.MetadataQueryParams
    row_methods = ("GET",)

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsAuthenticated()]
        return [AllowAny()]

    def perform(self, p: dict[str, Any]) -> list[dict]:
        return annotations_find(object_id=p.get("objectId"), internal_name=p.get("internal_name"))

    @extend_schema(
        request=params.MetadataPostParams,
        responses={
            (200, "application/json"): OpenApiResponse(
                {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["ok"]},
                        "text": {"type": "string"},
                        "key:key": {"type": "string"},
                        "d:internal_name": {"type": "string"},
                        "d:internal_name_encoded": {"type": "string"},
                        "d:comments": {"type": "string"},
                    },
                },
                description="The annotation as saved.",
            ),
            **ERROR_RESPONSES,
            (403, "application/json"): OpenApiResponse(
                ErrorSerializer, description="A session without its CSRF token."
            ),
        },
    )
    def post(self, request, *args: Any, **kwargs: Any) -> Response:
        data = {**request_params(request.query_params), **request_params(request.data)}
        serializer = params.MetadataPostParams(data=data)
        serializer.is_valid(raise_exception=True)
        p = serializer.validated_data
        annotation = annotation_save(
            user=request.user, object_id=p["objectId"], internal_name=p["internal_name"], comments=p["comments"]
        )
        return Response(
            {
                "status": "ok",
                "text": f"Thanks {request.user.get_username()}: {annotation.object_id} is annotated",
                "key:key": annotation.object_id,
                "d:internal_name": annotation.internal_name,
                "d:internal_name_encoded": annotation.internal_name_encoded,
                "d:comments": annotation.comments,
            }
        )
