"""The API plumbing end to end through real HTTP requests (Django's test client, a live server
for static files): FinkView parameter handling, errors, throttling, token auth, OpenAPI and docs."""
import io
import logging
import re
import urllib.request

import orjson
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings
from openapi_spec_validator import validate
from rest_framework.authtoken.models import Token

from api.throttles import throttle_tiers

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()  # throttle counts live in the cache
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def body(response):
    return orjson.loads(response.content)


def assert_error(response, status, text_start):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    payload = body(response)
    assert payload["status"] == "error"
    assert payload["text"].startswith(text_start), payload["text"]
    assert "Traceback" not in payload["text"]
    return payload


# --- FinkView: GET and POST alike, parameter errors ------------------------------------------

ECHO = "/api/v1/test/echo"


def test_get_and_post_json_and_post_form_give_the_same_params(client):
    query = {"objectId": "ZTF21abfmbix", "withupperlim": "True", "cutout-kind": "Science",
             "columns": "i:jd,i:fid", "ra": "12:55:17.218", "dec": "-05:30:00",
             "startdate": "2021-10-13"}
    from_get = body(client.get(ECHO, query))
    from_json = body(client.post(ECHO, {**query, "withupperlim": True}, content_type="application/json"))
    from_form = body(client.post(ECHO, query))
    assert from_get == from_json == from_form
    assert from_get == {
        "objectId": "ZTF21abfmbix", "withupperlim": True, "cutout_kind": "Science",
        "columns": ["i:jd", "i:fid"], "ra": pytest.approx(193.8217417), "dec": -5.5,
        "startdate": 2459500.5, "output_format": "json",
    }


def test_trailing_slash_is_accepted(client):
    assert client.post(ECHO + "/", {"objectId": "x"}, content_type="application/json").status_code == 200


def test_bad_output_format_is_400_json_naming_the_parameter(client):
    assert_error(client.get(ECHO, {"objectId": "x", "output-format": "xml"}), 400, "output-format: must be one of")
    assert_error(
        client.post(ECHO, {"objectId": "x", "output-format": "fits"}, content_type="application/json"),
        400,
        "output-format: must be one of",
    )


def test_parameter_errors_are_joined_and_named(client):
    payload = assert_error(client.get(ECHO, {"withupperlim": "maybe", "dec": "95"}), 400, "")
    assert "objectId: this parameter is required" in payload["text"]
    assert "withupperlim: must be true or false" in payload["text"]
    assert "dec: must be between -90 and 90" in payload["text"]
    assert_error(client.get(ECHO, {"objectId": "x", "columns": "i:nope"}), 400, "columns: unknown column(s): i:nope")


def test_malformed_or_non_object_bodies_are_400(client):
    assert_error(client.post(ECHO, "{not json", content_type="application/json"), 400, "JSON parse error")
    assert_error(client.post(ECHO, ["objectId"], content_type="application/json"), 400, "the request body must be")


def test_accept_header_does_not_choose_the_format(client):
    response = client.get(ECHO, {"objectId": "x"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


# --- rows in four formats, truncation headers ------------------------------------------------

ROWS = "/api/v1/test/rows"


@pytest.mark.parametrize(
    "output_format, content_type",
    [("json", "application/json"), ("csv", "text/csv; charset=utf-8"),
     ("parquet", "application/vnd.apache.parquet"), ("votable", "application/x-votable+xml; charset=utf-8")],
)
def test_output_format_chooses_the_renderer(client, output_format, content_type):
    response = client.get(ROWS, {"output-format": output_format})
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert "X-Result-Truncated" not in response


def test_rows_cut_at_a_cap_say_so_in_every_format(client):
    for output_format in ("json", "csv", "parquet", "votable"):
        response = client.post(ROWS, {"n": 2, "output-format": output_format}, content_type="application/json")
        assert response["X-Result-Truncated"] == "true"
        assert response["X-Result-Limit"] == "2"
    assert len(body(client.get(ROWS, {"n": 2}))) == 2
    table = pq.read_table(io.BytesIO(client.get(ROWS, {"output-format": "parquet"}).content))
    assert table.num_rows == 3 and table.column("d:score").null_count == 2


# --- exception handler -----------------------------------------------------------------------


def test_store_unavailable_is_503_json(client):
    assert_error(client.get("/api/v1/test/store-down"), 503,
                 "the alert store is unavailable: connection refused by 127.0.0.1:9090")


def test_errors_are_json_even_when_rows_were_asked_in_csv(client):
    response = client.get("/api/v1/test/store-down", {"output-format": "csv"})
    assert_error(response, 503, "the alert store is unavailable")


def test_other_store_errors_are_500_json_without_traceback(client):
    assert_error(client.get("/api/v1/test/store-broken"), 500, "alert store error: cell of unknown codec")


def test_unknown_exceptions_are_500_json_and_logged(client, caplog):
    with caplog.at_level(logging.ERROR, logger="api"):
        payload = assert_error(client.get("/api/v1/test/crash"), 500, "internal error")
    assert payload == {"status": "error", "text": "internal error"}
    assert "RuntimeError: a bug" in caplog.text  # the traceback is in the log, not the answer


def test_django_level_404_and_500_are_json_under_api_only(client):
    assert_error(client.get("/api/v1/no-such-route"), 404, "no API route at /api/v1/no-such-route")
    assert_error(client.get("/api/v1/test/django-crash"), 500, "internal error")
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "application/json" not in page["Content-Type"]


def test_method_not_allowed_is_json(client):
    assert_error(client.delete(ECHO), 405, 'Method "DELETE" not allowed')


# --- throttling and authentication -----------------------------------------------------------


def low_rates(anon="3/min", user="5/min", staff=None):
    rates = {"anon": anon, "user": user, "staff": staff}
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates})


def token_for(username, **flags):
    user = get_user_model().objects.create_user(username=username, password="pw", **flags)
    return f"Token {Token.objects.create(user=user).key}"


def test_anonymous_clients_are_throttled(client):
    with low_rates():
        assert [client.get("/api/v1/ping").status_code for _ in range(3)] == [200] * 3
        response = client.get("/api/v1/ping")
        assert_error(response, 429, "too many requests")
        assert int(response["Retry-After"]) > 0
        # Another address is another anonymous client.
        assert client.get("/api/v1/ping", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_users_have_their_own_allowance_and_staff_none(client):
    user, staff = token_for("astro"), token_for("operator", is_staff=True)
    with low_rates():
        statuses = [client.get("/api/v1/ping", HTTP_AUTHORIZATION=user).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        assert all(client.get("/api/v1/ping", HTTP_AUTHORIZATION=staff).status_code == 200 for _ in range(20))
        assert client.get("/api/v1/ping").status_code == 200  # the anonymous count is separate


def test_throttle_tiers_are_published():
    with low_rates(anon="7/min"):
        tiers = {t["tier"]: t["rate"] for t in throttle_tiers()}
    assert tiers == {"anon": "7/min", "user": "5/min", "staff": "unlimited"}


def test_token_authentication(client):
    who = "/api/v1/test/whoami"
    assert client.get(who, HTTP_AUTHORIZATION=token_for("astro")).json() == {"username": "astro"}
    anonymous = client.get(who)
    assert_error(anonymous, 401, "Authentication credentials were not provided")
    assert anonymous["WWW-Authenticate"] == "Token"
    assert_error(client.get(who, HTTP_AUTHORIZATION="Token 0123456789abcdef"), 401, "Invalid token")


def test_session_authentication(client):
    get_user_model().objects.create_user(username="astro", password="pw")
    client.login(username="astro", password="pw")
    assert client.get("/api/v1/test/whoami").json() == {"username": "astro"}


# --- OpenAPI and its documentation pages -----------------------------------------------------


def test_ping(client):
    response = client.get("/api/v1/ping")
    assert response.status_code == 200 and body(response) == {"status": "ok"}


def test_schema_is_valid_openapi_with_routes_from_their_serializers(client):
    response = client.get("/api/v1/openapi", {"format": "json"})
    assert response.status_code == 200
    spec = body(response)
    validate(spec)
    assert "/api/v1/ping" in spec["paths"]
    assert "Fink" in spec["info"]["description"]

    echo = spec["paths"]["/api/v1/test/echo"]
    query = {p["name"]: p for p in echo["get"]["parameters"]}
    assert {"objectId", "withupperlim", "cutout-kind", "columns", "output-format"} <= set(query)
    assert query["objectId"]["required"] is True
    assert query["output-format"]["schema"]["enum"] == ["json", "csv", "parquet", "votable"]
    assert "format" not in query  # the format is output-format, not DRF's ?format=
    post = echo["post"]
    assert set(post["requestBody"]["content"]) >= {"application/json", "multipart/form-data"}
    assert set(post["responses"]["200"]["content"]) == {
        "application/json", "text/csv", "application/vnd.apache.parquet", "application/x-votable+xml"
    }
    assert "X-Result-Truncated" in post["responses"]["200"]["headers"]
    assert set(post["responses"]) >= {"200", "400", "429", "503"}
    assert client.get("/api/v1/openapi").content.startswith(b"openapi: 3")  # YAML by default


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_reference_no_outside_url(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL) for a in assets)


def test_docs_static_assets_are_served_locally(client, live_server):
    html = client.get("/api/v1/docs/").content.decode()
    html += client.get("/api/v1/redoc/").content.decode()
    assets = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    assert any(a.endswith("redoc.standalone.js") for a in assets)
    for asset in assets:
        with urllib.request.urlopen(live_server.url + asset, timeout=10) as response:
            assert response.status == 200 and response.read(), asset
