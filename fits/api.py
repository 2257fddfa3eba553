"""The fit job API: ``/api/v1/fits`` (list, create) and ``/api/v1/fits/<id>`` (status and result).

Reading is open to all; creating needs an account (API token or session): a fit costs a worker's
time. Each view parses its input with a small serializer, calls one selector or service and
shapes the job with :class:`FitJobOut`. Errors go through :func:`api.errors.exception_handler`
(``{"status": "error", "text": "<param>: <what>"}``).
"""
from __future__ import annotations

import json
from typing import Any, ClassVar

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import FinkBooleanField
from api.renderers import LIMIT_HEADER, TRUNCATED_HEADER, JSONRenderer
from api.schema import ERROR_RESPONSES, ErrorSerializer
from api.views import FirstRendererNegotiation

from .fitters import FitParameterError
from .models import FitJob
from .selectors import NoLightCurve, fit_jobs
from .services import fit_job_create

#: Jobs one list request returns at most.
MAX_LIST = 1000


class ReadOrAuthenticated(BasePermission):
    """Anyone reads; only a signed-in user (token or session) asks for a fit."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or bool(request.user and request.user.is_authenticated)


class FitJobOut(serializers.ModelSerializer):
    """A job as the API shows it (``result`` only on the job's own route)."""

    objectId = serializers.CharField(source="object_id")
    url = serializers.SerializerMethodField()

    class Meta:
        model = FitJob
        fields = (
            "id", "url", "objectId", "kind", "parameters", "status", "created", "started",
            "finished", "duration", "attempts", "error",
        )

    def get_url(self, job: FitJob) -> str:
        return f"/api/v1/fits/{job.pk}"


class FitJobDetailOut(FitJobOut):
    class Meta(FitJobOut.Meta):
        fields = (*FitJobOut.Meta.fields, "result")


class FitJobCreatedOut(FitJobDetailOut):
    reused = serializers.BooleanField(help_text="true: a kept job of the same fit answers, nothing new is fitted")

    class Meta(FitJobDetailOut.Meta):
        fields = (*FitJobDetailOut.Meta.fields, "reused")


@extend_schema_field({"type": "object", "additionalProperties": True, "example": {"period_max": 2}})
class JSONObjectField(serializers.Field):
    """A JSON object, sent as one (JSON body) or as its text (form, query string)."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "must be a JSON object of fitter options"}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            if not data.strip():
                return {}
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        return data

    def to_representation(self, value: dict[str, Any]) -> dict[str, Any]:
        return value


class FitJobIn(serializers.Serializer):
    objectId = serializers.CharField(
        max_length=64, help_text="ZTF objectId, or the asteroid name / number (ssnamenr) for phase_curve"
    )
    kind = serializers.CharField(max_length=32, help_text="period, microlensing or phase_curve")
    parameters = JSONObjectField(required=False, default=dict, help_text="fitter options, e.g. {\"period_max\": 2}")
    force = FinkBooleanField(required=False, default=False, help_text="fit again even if a kept result exists")


class FitJobsQuery(serializers.Serializer):
    objectId = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=FitJob.Status.choices, required=False, allow_blank=True)
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=MAX_LIST)


class _FitView(APIView):
    renderer_classes: ClassVar[list[type]] = [JSONRenderer]
    content_negotiation_class = FirstRendererNegotiation
    permission_classes: ClassVar[list[type]] = [ReadOrAuthenticated]


def _parameter_error(exc: FitParameterError) -> exceptions.ValidationError:
    """A 400 naming the parameter: ``kind``, ``objectId`` or ``parameters.<option>``."""
    message = str(exc).split(": ", 1)[-1]
    if exc.parameter == "kind":
        name = "kind"
    elif exc.parameter == "object_id":
        name = "objectId"
    elif exc.parameter == "parameters":
        name = "parameters"
    else:
        name = f"parameters.{exc.parameter}"
    return exceptions.ValidationError({name: [message]})


class FitJobs(_FitView):
    """List fit jobs (newest first) or ask for a fit."""

    @extend_schema(
        parameters=[FitJobsQuery],
        responses={200: FitJobOut(many=True), **ERROR_RESPONSES},
        operation_id="fits_list",
    )
    def get(self, request: Request) -> Response:
        query = FitJobsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        limit = params["limit"]
        jobs = list(
            fit_jobs(
                object_id=params.get("objectId") or None,
                kind=params.get("kind") or None,
                status=params.get("status") or None,
            )[: limit + 1]
        )
        response = Response(FitJobOut(jobs[:limit], many=True).data)
        if len(jobs) > limit:
            response[TRUNCATED_HEADER] = "true"
            response[LIMIT_HEADER] = str(limit)
        return response

    @extend_schema(
        request=FitJobIn,
        responses={
            201: OpenApiResponse(FitJobCreatedOut, description="A new job, queued."),
            200: OpenApiResponse(FitJobCreatedOut, description="A kept job of the same fit (reused)."),
            401: OpenApiResponse(ErrorSerializer, description="No credentials (token or session)."),
            404: OpenApiResponse(ErrorSerializer, description="Nothing stored for this object."),
            **ERROR_RESPONSES,
        },
        operation_id="fits_create",
    )
    def post(self, request: Request) -> Response:
        data = FitJobIn(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data
        try:
            job = fit_job_create(
                object_id=params["objectId"],
                kind=params["kind"],
                parameters=params["parameters"],
                user=request.user,
                force=params["force"],
            )
        except FitParameterError as exc:
            raise _parameter_error(exc) from None
        except NoLightCurve as exc:
            raise exceptions.NotFound(str(exc)) from None
        body = FitJobCreatedOut(job).data
        response = Response(body, status=status.HTTP_200_OK if job.reused else status.HTTP_201_CREATED)
        response["Location"] = body["url"]
        return response


class FitJobDetail(_FitView):
    """One fit job: its status and, once done, its result (or its error once failed)."""

    @extend_schema(responses={200: FitJobDetailOut, 404: ErrorSerializer}, operation_id="fits_get")
    def get(self, request: Request, job_id: int) -> Response:
        job = get_object_or_404(FitJob, pk=job_id)
        return Response(FitJobDetailOut(job).data)
