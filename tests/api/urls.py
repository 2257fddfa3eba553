"""A test-only URLconf: the API's own routes plus small real views that exercise the plumbing.

The views raise the real exception classes (``store.StoreUnavailable``...) from real DRF views;
nothing is mocked.
"""
import math

from django.http import HttpResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import (
    ColumnsField,
    DeclinationField,
    FinkBooleanField,
    FinkDateField,
    FinkParamsSerializer,
    OutputFormatField,
    RightAscensionField,
)
from api.routing import fink_path
from api.tabular import TableResult
from api.views import FinkView
from store import StoreError, StoreUnavailable

ROWS = [
    {"i:objectId": "ZTF21abfmbix", "i:jd": 2459507.8742361, "i:fid": 1, "d:flag": True, "d:score": math.nan},
    {"i:objectId": "ZTF21aaaaaaa", "i:jd": 2459500.5, "i:fid": 2, "d:flag": False, "d:score": -0.25},
    {"i:objectId": "ZTF21bbbbbbb", "i:jd": 2459400.0, "i:fid": 2, "d:flag": None, "d:score": None},
]


class EchoParams(FinkParamsSerializer):
    objectId = serializers.CharField()
    withupperlim = FinkBooleanField(default=False)
    cutout_kind = serializers.ChoiceField(choices=["All", "Science"], default="All")
    columns = ColumnsField(allowed=lambda: {c for row in ROWS for c in row})
    ra = RightAscensionField(required=False)
    dec = DeclinationField(required=False)
    startdate = FinkDateField(required=False)
    output_format = OutputFormatField()


class Echo(FinkView):
    """Give back the validated parameters (a dict: rendered as one JSON object)."""

    input_serializer = EchoParams

    def perform(self, params):
        if "startdate" in params:
            params["startdate"] = params["startdate"].jd
        return params


class RowsParams(FinkParamsSerializer):
    n = serializers.IntegerField(default=10, min_value=1)
    output_format = OutputFormatField()


class Rows(FinkView):
    """Return the first ``n`` of three rows, truncated when ``n`` < 3."""

    input_serializer = RowsParams

    def perform(self, params):
        return TableResult.capped(iter(ROWS), params["n"])


class StoreDown(FinkView):
    input_serializer = RowsParams

    def perform(self, params):
        raise StoreUnavailable("connection refused by 127.0.0.1:9090")


class StoreBroken(FinkView):
    def perform(self, params):
        raise StoreError("cell of unknown codec in table ztf")


class Crash(FinkView):
    def perform(self, params):
        raise RuntimeError("a bug")


class WhoAmI(APIView):
    permission_classes = (IsAuthenticated,)
    schema = None  # not a route of the API: left out of the OpenAPI schema

    def get(self, request):
        return Response({"username": request.user.username})


def django_crash(request):
    raise RuntimeError("a bug outside DRF")


def html_page(request):
    return HttpResponse("<p>page</p>")


urlpatterns = [
    path("api/v1/", include("api.urls")),
    fink_path("api/v1/test/echo", Echo.as_view()),
    fink_path("api/v1/test/rows", Rows.as_view()),
    fink_path("api/v1/test/store-down", StoreDown.as_view()),
    fink_path("api/v1/test/store-broken", StoreBroken.as_view()),
    fink_path("api/v1/test/crash", Crash.as_view()),
    fink_path("api/v1/test/whoami", WhoAmI.as_view()),
    path("api/v1/test/django-crash", django_crash),
    path("page", html_page),
]

handler404 = "api.errors.page_not_found"
handler500 = "api.errors.server_error"
