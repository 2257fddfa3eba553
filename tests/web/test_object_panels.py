"""The object page's alert-content panel and classification history, through Django's test
client on real ingested alerts (``conftest.WEB_FOLDERS``), checked against the data files."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

from tests.api.conftest import ingested_store_settings  # noqa: F401 -- the shared fixture

from .conftest import OBJECT_ID, WEB_FOLDERS

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "fink-parquet"


def alerts_in_file(object_id: str) -> list[dict]:
    """The object's alerts as the Fink parquet files hold them (candidate fields flattened)."""
    import pandas as pd

    frames = [pd.read_parquet(path) for path in parquet_files()]
    rows = []
    for frame in frames:
        for record in frame[frame["objectId"] == object_id].to_dict("records"):
            rows.append(
                {
                    **record["candidate"],
                    **{k: v for k, v in record.items() if k != "candidate"},
                }
            )
    return rows


def parquet_files() -> list[Path]:
    return sorted(
        path
        for folder in WEB_FOLDERS
        for path in (DATA.parent / folder).glob("*.parquet")
    )


def objects_with_several_alerts() -> list[str]:
    import collections

    import pandas as pd

    counts = collections.Counter()
    for path in parquet_files():
        counts.update(pd.read_parquet(path, columns=["objectId"])["objectId"])
    return sorted(oid for oid, n in counts.items() if n > 1)


def cells(html: str) -> dict[str, str]:
    """``{column: shown value}`` of an alert-content fragment."""
    found = re.findall(
        r'<tr data-column="([^"]+)"><th[^>]*>[^<]*</th><td[^>]*>([^<]*)</td>', html
    )
    return dict(found)


def test_the_alert_panel_shows_the_chosen_alert_as_stored(client, portal_store):
    stored = alerts_in_file(OBJECT_ID)
    assert len(stored) == 10
    oldest = min(stored, key=lambda row: row["jd"])
    response = client.get(
        f"/objects/{OBJECT_ID}/panels/alert", {"candid": oldest["candid"]}
    )
    html = response.content.decode()
    assert response.status_code == 200, html
    shown = cells(html)
    assert f'data-candid="{oldest["candid"]}"' in html
    assert shown["i:candid"] == str(oldest["candid"])
    assert shown["i:magpsf"] == f"{oldest['magpsf']:.8g}"
    assert shown["i:fid"] == str(oldest["fid"])
    assert shown["i:jd"].startswith(f"{oldest['jd']:.6f}")
    assert shown["i:ra"] == f"{oldest['ra']:.8g}"
    # Every stored column of the alert table is listed, once, grouped.
    from alerts.tables import Alert

    assert set(shown) == set(Alert.fields_by_column)
    for title in (
        "ZTF candidate",
        "Fink scores",
        "Fink cross-matches",
        "Fink classification",
    ):
        assert f"<summary>{title} " in html


def test_the_alert_panel_agrees_with_the_selector(client, portal_store):
    from alerts.selectors.objects import alerts_of_object
    from objects.views import NO_VALUE, format_alert_value

    rows = alerts_of_object(object_ids=[OBJECT_ID])
    chosen = rows[len(rows) // 2]
    shown = cells(
        client.get(
            f"/objects/{OBJECT_ID}/panels/alert", {"candid": chosen["i:candid"]}
        ).content.decode()
    )
    from django.utils.html import escape

    for column, value in chosen.items():
        if column in shown:
            assert shown[column] == escape(format_alert_value(column, value)), column
    assert shown["d:classification"] == chosen["d:classification"]
    missing = [
        c
        for c, v in chosen.items()
        if c in shown and (v is None or (isinstance(v, float) and math.isnan(v)))
    ]
    assert all(shown[c] == NO_VALUE for c in missing)


def test_the_alert_panel_defaults_to_the_latest_alert(client, portal_store):
    latest = max(alerts_in_file(OBJECT_ID), key=lambda row: row["jd"])
    html = client.get(f"/objects/{OBJECT_ID}/panels/alert").content.decode()
    assert cells(html)["i:candid"] == str(latest["candid"])
    assert "(latest)" in html


@pytest.mark.parametrize(
    ("candid", "status", "words"),
    [
        ("12345", 404, "has no alert 12345"),
        ("abc", 400, "is not an alert id"),
        ("1e5", 400, "is not an alert id"),
    ],
)
def test_a_bad_candid_gets_a_friendly_message(
    client, portal_store, candid, status, words
):
    response = client.get(f"/objects/{OBJECT_ID}/panels/alert", {"candid": candid})
    assert response.status_code == status
    assert response["X-Panel-Message"] == "1"
    assert words in response.content.decode()


def test_an_unknown_object_has_no_alert_to_show(client, portal_store):
    response = client.get("/objects/ZTF99zzzzzzz/panels/alert")
    assert response.status_code == 404
    assert "No alert of ZTF99zzzzzzz" in response.content.decode()


def test_the_object_page_loads_the_alert_panel(client, portal_store):
    html = client.get(f"/{OBJECT_ID}").content.decode()
    assert f'data-panel-src="/objects/{OBJECT_ID}/panels/alert"' in html


def expected_history(object_id: str) -> list[str]:
    from alerts.selectors.objects import alerts_of_object

    rows = alerts_of_object(
        object_ids=[object_id], columns=["i:jd", "d:classification"]
    )
    ordered = sorted(rows, key=lambda row: row["i:jd"])
    return [
        label
        for label, _ in itertools.groupby(
            row["d:classification"] or "Unknown" for row in ordered
        )
    ]


def history_shown(client, object_id: str) -> list[str]:
    html = client.get(f"/objects/{object_id}/panels/details").content.decode()
    body = html.split('id="class-history"', 1)[1]
    return re.findall(r'<tr data-classification="([^"]*)"', body)


def test_the_history_lists_the_classes_in_date_order(client, portal_store):
    # Every object with several alerts; some change class from alert to alert.
    ids = objects_with_several_alerts()
    assert len(ids) > 3
    changed = [oid for oid in ids if len(expected_history(oid)) > 1]
    for object_id in [OBJECT_ID, *ids]:
        assert history_shown(client, object_id) == expected_history(object_id), (
            object_id
        )
    assert changed, "no object of the sample changes class"


def test_the_history_says_what_decided(client, portal_store):
    html = client.get(f"/objects/{OBJECT_ID}/panels/details").content.decode()
    assert 'id="class-history"' in html
    from objects.views import classification_history

    run = classification_history(
        [
            {
                "i:jd": 2459000.5,
                "i:candid": 1,
                "d:classification": "SN candidate",
                "d:snn_snia_vs_nonia": 0.91,
                "d:snn_sn_vs_all": 0.97,
            }
        ]
    )[0]
    assert (
        run["decided_by"] == "SuperNNova (snn_snia_vs_nonia 0.91, snn_sn_vs_all 0.97)"
    )
    run = classification_history(
        [{"i:jd": 2459000.5, "d:classification": "QSO", "d:cdsxmatch": "QSO"}]
    )[0]
    assert run["decided_by"] == "SIMBAD cross-match"


# -- the asteroid an object is of -----------------------------------------------------------------

#: An object of the alerts of asteroid 8467 (Benoitcarry), in the API tests' ingested store.
ASTEROID_OBJECT = "ZTF25aabvany"


@pytest.fixture
def asteroid_store(ingested_store_settings):  # noqa: F811 -- the shared fixture
    from django.conf import settings

    import store

    store.configure(ingested_store_settings)
    yield
    store.configure(settings.STORE)


@pytest.mark.parametrize("ingested_store_settings", ["embedded"], indirect=True)
def test_an_asteroids_object_links_to_all_its_alerts(client, asteroid_store, db, django_assert_num_queries):
    link = re.compile(r'<a class="sso-link" href="([^"]+)"[^>]*>([^<]+)</a>')
    with django_assert_num_queries(0):  # the page itself asks the user database nothing
        page = client.get(f"/{ASTEROID_OBJECT}").content.decode()
    line = page.split("<dt>Solar System object</dt>", 1)[1].split("</dd>", 1)[0]
    assert f'data-panel-src="/objects/{ASTEROID_OBJECT}/panels/solar-system"' in line
    assert link.search(line).groups() == ("/search?q=8467", "8467")
    results = client.get("/search?q=8467")
    assert results.status_code == 200
    objects = {row["objectId"] for row in results.context["page"].object_list}
    assert len(objects) > 1 and ASTEROID_OBJECT in objects  # every alert of the asteroid

    panel = f"/objects/{ASTEROID_OBJECT}/panels/solar-system"
    assert link.search(client.get(panel).content.decode()).groups() == ("/search?q=8467", "8467")
    from search.models import AsteroidName, asteroid_name_key

    AsteroidName.objects.create(number=8467, name="Benoitcarry", key=asteroid_name_key("Benoitcarry"))
    assert link.search(client.get(panel).content.decode()).groups() == ("/search?q=8467", "(8467) Benoitcarry")

    assert "Solar System object" not in client.get(f"/{OBJECT_ID}").content.decode()
    assert client.get(f"/objects/{OBJECT_ID}/panels/solar-system").status_code == 404


# -- folding on the page --------------------------------------------------------------------------
def test_the_detections_for_folding_are_a_page_url(client, portal_store):
    from objects.lightcurve import lightcurve_of_object

    response = client.get(f"/objects/{OBJECT_ID}/lightcurve.json")
    assert response.status_code == 200
    data = response.json()
    assert len(data["jd"]) == len(data["mag"]) == len(data["band"]) == lightcurve_of_object(object_id=OBJECT_ID)[
        "counts"
    ]["valid"]
    assert set(data["band"]) <= {"g", "r", "i"} and all(m is not None for m in data["mag"])
    assert client.get("/objects/ZTF99zzzzzzz/lightcurve.json").status_code == 404


def test_a_kept_period_fit_offers_its_period_to_fold_on(client, portal_store, db):
    from fits.models import FitJob

    FitJob.objects.create(object_id=OBJECT_ID, kind="period", parameters={"period_min": 0.1}, params_hash="a" * 64,
                          status="done", result={"params": {"period": 0.4321}})
    FitJob.objects.create(object_id=OBJECT_ID, kind="period", parameters={"period_min": 0.2}, params_hash="b" * 64)
    body = client.get(f"/objects/{OBJECT_ID}/panels/fits").content.decode()
    assert '"foldPeriod": 0.4321' in body and '"foldPeriod": null' in body
    page = client.get(f"/{OBJECT_ID}").content.decode()
    assert 'id="fold-period"' in page and f'data-src="/objects/{OBJECT_ID}/lightcurve.json"' in page
