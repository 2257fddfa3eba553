"""The object pages: ``/objects/<id>`` (``/<id>`` is wired in ``portal/urls.py``) and the panels
the page fetches after it loads."""

from django.urls import path

from . import views  # importing views registers the light curve's Dash app (dash_apps)


class ZtfIdConverter:
    """The ``ztf_id`` path converter (wired in ``portal/urls.py``): a ZTF object id, ``ZTF``,
    two digits of year, seven lower-case letters."""

    regex = r"ZTF\d{2}[a-z]{7}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


app_name = "objects"
urlpatterns = [
    path("<str:object_id>", views.object_page, name="page"),
    path("<str:object_id>/cutout.png", views.cutout_image, name="cutout"),
    path("<str:object_id>/lightcurve.json", views.lightcurve_detections, name="lightcurve_detections"),
    path("<str:object_id>/panels/solar-system", views.solar_system_panel, name="solar_system_panel"),
    path("<str:object_id>/panels/alerts", views.alerts_panel, name="alerts_panel"),
    path("<str:object_id>/panels/alert", views.alert_panel, name="alert_panel"),
    path("<str:object_id>/panels/details", views.details_panel, name="details_panel"),
    path("<str:object_id>/panels/fits", views.fits_panel, name="fits_panel"),
    path("<str:object_id>/panels/annotations", views.annotations_panel, name="annotations_panel"),
]
