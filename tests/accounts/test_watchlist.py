"""Watchlists on real ingested alerts: what is new since the last visit, for objects and cones."""
from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import selectors, services
from accounts.models import WatchlistEntry
from alerts.selectors.objects import alerts_of_object
from store import StoreUnavailable

pytestmark = pytest.mark.django_db

MULTI = "ZTF25abixhdc"  # ten alerts with cutouts (slsn-2025)


def _visit(client) -> dict[int, selectors.WatchReport]:
    response = client.get(reverse("accounts:watchlist"))
    assert response.status_code == 200
    return {r.entry.pk: r for r in response.context["reports"]}


def test_object_new_alerts_since_last_visit(ingested_store, alert_facts, logged_in, user):
    jds = sorted(alert_facts[MULTI].alerts, reverse=True)
    assert len(jds) >= 4
    response = logged_in.post(reverse("accounts:watch_object_add"), {"object_id": MULTI, "label": "my SLSN"})
    assert response.status_code == 302
    entry = WatchlistEntry.objects.get(user=user)
    # Watching starts from the alerts held now: none of them is new.
    assert entry.seen_jd == pytest.approx(jds[0])
    report = _visit(logged_in)[entry.pk]
    assert report.new_count == 0 and report.error is None and report.newest_jd == pytest.approx(jds[0])

    # As if the last visit saw only up to the third-newest alert: the two after it are new.
    entry.seen_jd = jds[2]
    entry.save()
    response = logged_in.get(reverse("accounts:watchlist"))
    report = response.context["reports"][0]
    assert report.new_count == 2
    assert [a["jd"] for a in report.new] == pytest.approx(jds[:2])
    assert [a["candid"] for a in report.new] == [alert_facts[MULTI].alerts[jd] for jd in jds[:2]]
    assert [a["magpsf"] for a in report.new] == pytest.approx([alert_facts[MULTI].magpsf[jd] for jd in jds[:2]])
    page = response.content.decode()
    assert "2 new alerts" in page and str(report.new[0]["candid"]) in page and "my SLSN" in page

    # The visit marked them seen; the next visit has nothing new.
    entry.refresh_from_db()
    assert entry.seen_jd == pytest.approx(jds[0]) and entry.visited is not None
    assert _visit(logged_in)[entry.pk].new_count == 0


def test_cone_new_objects_since_last_visit(ingested_store, alert_facts, logged_in, user):
    row = alerts_of_object(object_ids=[MULTI], columns=["i:ra", "i:dec", "i:jd"])[0]
    response = logged_in.post(
        reverse("accounts:watch_cone_add"), {"ra": str(row["i:ra"]), "dec": str(row["i:dec"]), "radius": "5"}
    )
    assert response.status_code == 302
    entry = WatchlistEntry.objects.get(user=user, kind="cone")
    latest = max(alert_facts[MULTI].alerts)
    assert entry.seen_jd == pytest.approx(latest)
    assert _visit(logged_in)[entry.pk].new_count == 0

    entry.seen_jd = latest - 1e-4
    entry.save()
    report = _visit(logged_in)[entry.pk]
    assert report.new_count == 1
    (new,) = report.new
    assert new["objectId"] == MULTI and new["jd"] == pytest.approx(latest) and new["separation_arcsec"] < 5
    assert _visit(logged_in)[entry.pk].new_count == 0


def test_entries_are_per_user(ingested_store, logged_in, user, other_user):
    services.watch_object(user=other_user, object_id=MULTI)
    assert _visit(logged_in) == {}


def test_a_store_failure_keeps_what_was_not_seen(ingested_store, logged_in, user, monkeypatch):
    entry, _ = services.watch_object(user=user, object_id=MULTI)
    entry.seen_jd = 0.0
    entry.save()

    def unavailable(**kwargs):
        raise StoreUnavailable("the store is down")

    monkeypatch.setattr(selectors, "alerts_of_object", unavailable)
    response = logged_in.get(reverse("accounts:watchlist"))
    assert response.status_code == 200 and "could not be read" in response.content.decode()
    entry.refresh_from_db()
    assert entry.seen_jd == 0.0  # shown on the next visit instead
    monkeypatch.undo()
    assert _visit(logged_in)[entry.pk].new_count >= 1


def test_an_object_without_alerts_yet_can_be_watched(ingested_store, logged_in, user):
    logged_in.post(reverse("accounts:watch_object_add"), {"object_id": "ZTF99zzzzzzz"})
    entry = WatchlistEntry.objects.get(user=user)
    assert entry.seen_jd is None
    report = _visit(logged_in)[entry.pk]
    assert report.new_count == 0 and report.error is None


def test_remove(ingested_store, logged_in, user, other_user):
    mine, _ = services.watch_object(user=user, object_id=MULTI)
    theirs, _ = services.watch_object(user=other_user, object_id=MULTI)
    logged_in.post(reverse("accounts:watch_remove", args=[theirs.pk]))
    logged_in.post(reverse("accounts:watch_remove", args=[mine.pk]))
    assert list(WatchlistEntry.objects.values_list("pk", flat=True)) == [theirs.pk]


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("accounts:watch_object_add", {"object_id": ""}, "Give a ZTF object id."),
        ("accounts:watch_object_add", {"object_id": "M31"}, "is not a ZTF object id"),
        ("accounts:watch_object_add", {"object_id": MULTI}, f"You already watch {MULTI}."),
        ("accounts:watch_cone_add", {"ra": "abc", "dec": "10", "radius": "5"}, "Bad right ascension: cannot read"),
        ("accounts:watch_cone_add", {"ra": "10", "dec": "95", "radius": "5"}, "Bad declination: must be between -90 and 90"),
        ("accounts:watch_cone_add", {"ra": "10", "dec": "10", "radius": "0"}, "The radius must be more than 0"),
        ("accounts:watch_cone_add", {"ra": "10", "dec": "10", "radius": "20000"}, "at most 18000 arcseconds"),
        ("accounts:watch_cone_add", {"ra": "10", "dec": "10", "radius": "wide"}, "The radius must be a number"),
        ("accounts:watch_cone_add", {"dec": "10", "radius": "5"}, "Give the right ascension"),
    ],
)
def test_watch_forms_reject_bad_input(ingested_store, logged_in, user, url, data, message):
    services.watch_object(user=user, object_id=MULTI)
    response = logged_in.post(reverse(url), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert WatchlistEntry.objects.count() == 1


def test_cone_accepts_sexagesimal(ingested_store, logged_in, user):
    response = logged_in.post(reverse("accounts:watch_cone_add"), {"ra": "12:55:17.218", "dec": "-05:30:00", "radius": "10"})
    assert response.status_code == 302
    entry = WatchlistEntry.objects.get()
    assert entry.ra == pytest.approx(193.8217416, abs=1e-6) and entry.dec == pytest.approx(-5.5)
    assert entry.url.startswith("/search?q=")
