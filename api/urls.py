"""The API's own routes, included under ``/api/v1/`` by ``portal/urls.py``: ``ping``, the OpenAPI
document (``openapi``), and its two documentation pages (``docs/``: Swagger UI, ``redoc/``)
served from local static files."""
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from .routing import fink_path
from .views import Ping

app_name = "api"

urlpatterns = [
    fink_path("ping", Ping.as_view()),
    # The OpenAPI document (YAML; ?format=json for JSON). Not at /api/v1/schema: that is Fink's
    # own `schema` route (the alert columns), served by the search app.
    fink_path("openapi", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "redoc/",
        # Our template: drf-spectacular's loads Google fonts from the internet.
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"),
        name="redoc",
    ),
]
