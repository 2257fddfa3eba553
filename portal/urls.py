"""URL wiring of the portal: each app's urls, the admin."""
from django.contrib import admin
from django.urls import include, path, register_converter

from objects.urls import ZtfIdConverter
from objects.views import object_page

register_converter(ZtfIdConverter, "ztf_id")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),  # ping, openapi (the OpenAPI document), docs/ (Swagger UI), redoc/
    path("api/v1/", include("objects.urls_api")),  # objects, cutouts
    path("api/v1/", include("fits.urls_api")),  # fit jobs: list, create, status and result
    path("api/v1/", include("search.urls_api")),  # conesearch, latests, sso, ... (search routes)
    path("django_plotly_dash/", include("django_plotly_dash.urls")),  # Dash apps (light curve)
    path("objects/", include("objects.urls")),  # object pages and their lazily loaded panels
    path("<ztf_id:object_id>", object_page, name="object_page"),  # /ZTF21abfmbix, as Fink
    path("", include("accounts.urls")),  # accounts/..., watchlist, api/ (API page), objects/<id>/annotations
    path("", include("search.urls")),
]

# JSON errors under /api/, Django's pages elsewhere (used when DEBUG is off).
handler404 = "api.errors.page_not_found"
handler500 = "api.errors.server_error"
