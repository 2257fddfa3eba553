"""The fit job API routes, included under ``/api/v1/`` by ``portal/urls.py``."""
from django.urls import re_path

from api.routing import fink_path

from .api import FitJobDetail, FitJobs

app_name = "fits_api"

urlpatterns = [
    fink_path("fits", FitJobs.as_view()),
    re_path(r"^fits/(?P<job_id>[0-9]+)/?$", FitJobDetail.as_view(), name="fit"),
]
