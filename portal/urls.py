"""URL wiring of the portal: each app's urls, the admin."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),  # ping, OpenAPI schema, Swagger UI, ReDoc
    path("api/v1/", include("objects.urls_api")),  # objects, cutouts
    path("", include("search.urls")),
]

# JSON errors under /api/, Django's pages elsewhere (used when DEBUG is off).
handler404 = "api.errors.page_not_found"
handler500 = "api.errors.server_error"
