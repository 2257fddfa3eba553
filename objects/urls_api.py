"""The object API routes, included under ``/api/v1/`` by ``portal/urls.py``."""
from api.routing import fink_path

from .api import Cutouts, Objects

app_name = "objects_api"

urlpatterns = [
    fink_path("objects", Objects.as_view()),
    fink_path("cutouts", Cutouts.as_view()),
]
