"""The search routes of the REST API, included under ``/api/v1/`` by ``portal/urls.py``."""
from api.routing import fink_path

from . import api

app_name = "search_api"

urlpatterns = [
    fink_path("conesearch", api.ConeSearch.as_view()),
    fink_path("latests", api.Latests.as_view()),
    fink_path("classes", api.Classes.as_view()),
    fink_path("sso", api.Sso.as_view()),
    fink_path("ssocand", api.SsoCand.as_view()),
    fink_path("tracklet", api.Tracklet.as_view()),
    fink_path("schema", api.Schema.as_view()),
    fink_path("statistics", api.Statistics.as_view()),
    fink_path("anomaly", api.Anomaly.as_view()),
    fink_path("resolver", api.Resolver.as_view()),
    fink_path("random", api.Random.as_view()),
    fink_path("skymap", api.Skymap.as_view()),
    fink_path("xmatch", api.Xmatch.as_view()),
    fink_path("metadata", api.Metadata.as_view()),
]
