"""Asteroid names resolved offline: ``manage.py load_sso_names`` on MPC-format files, then names in
the ``sso`` and ``resolver`` routes and in the search bar, on the real alerts of 8467 Benoitcarry
(``sso-8467-2025``) in the API tests' ingested store."""

from __future__ import annotations

import gzip
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from search.models import AsteroidName, asteroid_name_key
from tests.api.conftest import ingested_store_settings  # noqa: F401 -- shared fixture

pytestmark = pytest.mark.django_db

# Lines as the Minor Planet Center writes them in NumberedMPs.txt: number, name, principal
# provisional designation, discovery date, site, discoverers (only the number and name are read).
# 360000 and 620000 have no name: the first with the name column blank, the second with its
# designation where the name goes.
MPC_LINES = [
    "     (1) Ceres                           1801 01 01  Palermo                  Piazzi, G.",
    "     (2) Pallas                          1802 03 28  Bremen                   Olbers, H. W.",
    "     (3) Juno                            1804 09 01  Lilienthal               Harding, K.",
    "  (1931) Čapek              1969 QB     1969 08 22  Bergedorf                Kohoutek, L.",
    "  (8467) Benoitcarry        1984 SB6    1984 09 18  Anderson Mesa            Bowell, E.",
    "(100000) Astronautica        1982 SH1    1982 09 28  Palomar            60731 Gibson, J.",
    "(360000)                     2012 XX21   2001 12 18* Socorro                  LINEAR",
    "(620000) 2019 YS4                        2019 12 30* Haleakala                Pan-STARRS 1",
]
NAMED = {1: "Ceres", 2: "Pallas", 3: "Juno", 1931: "Čapek", 8467: "Benoitcarry", 100000: "Astronautica"}


def write_names(path, lines=MPC_LINES, *, zipped: bool = False):
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(gzip.compress(data) if zipped else data)
    return path


def load(path) -> str:
    out = StringIO()
    call_command("load_sso_names", str(path), stdout=out)
    return out.getvalue()


def table() -> dict[int, str]:
    return dict(AsteroidName.objects.values_list("number", "name"))


@pytest.fixture
def names_loaded(tmp_path):
    load(write_names(tmp_path / "NumberedMPs.txt"))


# -- the loader ------------------------------------------------------------------------------------
def test_names_load_from_an_mpc_file(tmp_path):
    summary = load(write_names(tmp_path / "NumberedMPs.txt"))
    assert table() == NAMED
    assert summary.startswith("6 asteroid names loaded from ")
    assert "2 numbered minor planets without a name skipped" in summary and summary.rstrip().endswith(" s")
    assert AsteroidName.objects.get(number=1931).key == "capek"


def test_keys_ignore_case_spaces_and_accents():
    assert asteroid_name_key("Benoît  Carry") == asteroid_name_key("benoitcarry") == "benoitcarry"
    assert asteroid_name_key("ČAPEK") == "capek"


def test_loading_again_replaces_and_is_idempotent(tmp_path):
    path = write_names(tmp_path / "NumberedMPs.txt")
    load(path)
    load(path)
    assert table() == NAMED
    load(write_names(tmp_path / "fewer.txt", MPC_LINES[:2]))
    assert table() == {1: "Ceres", 2: "Pallas"}


def test_a_gzipped_file_loads_the_same(tmp_path):
    load(write_names(tmp_path / "NumberedMPs.txt.gz", zipped=True))
    assert table() == NAMED


@pytest.mark.parametrize(
    ("bad_line", "words"),
    [
        ("this is not a minor planet", "no '(number)' at its start"),
        ("  (8468) Nodate", "no discovery date"),
        ("(abc) Foo                           1990 01 01  Somewhere                Someone",
         "no '(number)' at its start"),
        ("     (2) Pallas                          1802 03 28  Bremen                   Olbers, H. W.",
         "listed twice (also on line 2)"),
    ],
)
def test_a_malformed_file_is_one_line_naming_file_and_line_and_changes_nothing(tmp_path, bad_line, words):
    load(write_names(tmp_path / "good.txt", MPC_LINES[:3]))
    bad = write_names(tmp_path / "bad.txt", [*MPC_LINES[:4], bad_line, *MPC_LINES[4:]])
    with pytest.raises(CommandError) as caught:
        load(bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}:5: ") and words in message
    assert "\n" not in message
    assert table() == {1: "Ceres", 2: "Pallas", 3: "Juno"}  # the previous names, intact


def test_missing_empty_and_corrupt_files_are_errors(tmp_path):
    load(write_names(tmp_path / "good.txt"))
    for path, words in [
        (tmp_path / "absent.txt", "no such file"),
        (write_names(tmp_path / "unnamed.txt", MPC_LINES[-2:]), "no named minor planet"),
        (tmp_path / "cut.txt.gz", "unreadable"),
    ]:
        if path.name == "cut.txt.gz":
            path.write_bytes(gzip.compress(("\n".join(MPC_LINES)).encode())[:60])
        with pytest.raises(CommandError, match=words) as caught:
            load(path)
        assert str(caught.value).startswith(str(path))
    assert table() == NAMED


def test_names_are_in_the_admin(admin_client, names_loaded):
    page = admin_client.get("/admin/search/asteroidname/?" + urlencode({"q": "benoit"})).content.decode()
    assert "Benoitcarry" in page and "Ceres" not in page


# -- the API and the search page, on the alerts of 8467 ---------------------------------------------
@pytest.fixture
def client_on_alerts(ingested_store_settings, settings):  # noqa: F811 -- the shared fixture
    """A client on the portal, the default store holding the alerts of 8467 and 9016, no throttle."""
    import store

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "staff": None},
    }
    store.configure(ingested_store_settings)
    yield Client()
    store.configure(settings.STORE)


# Name resolution does not depend on the store's backend: the embedded one is enough.
on_embedded = pytest.mark.parametrize("ingested_store_settings", ["embedded"], indirect=True)


def api_rows(client, route, **params):
    response = client.get(f"/api/v1/{route}", params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


@on_embedded
def test_sso_route_takes_names(client_on_alerts, names_loaded):
    by_number = api_rows(client_on_alerts, "sso", n_or_d="8467")
    assert len(by_number) > 0 and {r["i:ssnamenr"] for r in by_number} == {"8467"}
    assert {r["sso_name"] for r in by_number} == {"Benoitcarry"}  # as Fink names it
    assert api_rows(client_on_alerts, "sso", n_or_d="Benoitcarry") == by_number
    assert api_rows(client_on_alerts, "sso", n_or_d="benoitcarry") == by_number
    both = api_rows(client_on_alerts, "sso", n_or_d="Benoitcarry,9016", columns="i:objectId,i:jd,i:ssnamenr")
    assert both == api_rows(client_on_alerts, "sso", n_or_d="8467, 9016", columns="i:objectId,i:jd,i:ssnamenr")
    assert {r["i:ssnamenr"] for r in both} == {"8467", "9016"}
    assert api_rows(client_on_alerts, "sso", n_or_d="Nosuchasteroid") == []


@on_embedded
def test_sso_route_without_names_loaded_finds_numbers_only(client_on_alerts):
    assert api_rows(client_on_alerts, "sso", n_or_d="Benoitcarry") == []
    rows = api_rows(client_on_alerts, "sso", n_or_d="8467")
    assert rows and {r["sso_name"] for r in rows} == {None}


@on_embedded
def test_resolver_resolves_names(client_on_alerts, names_loaded):
    benoitcarry = [{"i:ssnamenr": "8467", "name": "Benoitcarry", "number": 8467, "type": "Asteroid"}]
    response = client_on_alerts.get("/api/v1/resolver", {"resolver": "ssodnet", "name": "Benoitcarry"})
    assert response.json() == benoitcarry
    assert "asteroid names" in response["X-Resolver-Source"]
    assert api_rows(client_on_alerts, "resolver", resolver="ssodnet", name="benoit") == benoitcarry
    assert api_rows(client_on_alerts, "resolver", resolver="ssodnet", name="8467") == benoitcarry
    assert api_rows(client_on_alerts, "resolver", resolver="ssodnet", name="capek")[0]["number"] == 1931


@on_embedded
def test_search_page_finds_an_asteroid_by_name(client_on_alerts, names_loaded):
    by_number = client_on_alerts.get("/search", {"q": "sso=8467"})
    assert by_number.status_code == 200 and by_number.context["count"] > 0
    for text in ("sso=Benoitcarry", "sso=benoit carry", "Benoitcarry"):
        response = client_on_alerts.get("/search", {"q": text})
        assert response.status_code == 200, text
        page = response.content.decode()
        assert "(8467) Benoitcarry" in page
        assert response.context["count"] == by_number.context["count"]
        assert [r["objectId"] for r in response.context["results"].rows] == [
            r["objectId"] for r in by_number.context["results"].rows
        ]


@on_embedded
def test_search_page_says_how_names_get_known(client_on_alerts):
    page = client_on_alerts.get("/search", {"q": "sso=Benoitcarry"}).content.decode()
    assert "Nothing to show for" in page
    assert "no asteroid names are loaded" in page and "load_sso_names" in page and "8467" in page


@on_embedded
def test_search_page_says_an_unknown_name_is_not_known(client_on_alerts, names_loaded):
    page = client_on_alerts.get("/search", {"q": "sso=Nosuchasteroid"}).content.decode()
    assert "is not the name of a numbered asteroid" in page and "load_sso_names" in page
