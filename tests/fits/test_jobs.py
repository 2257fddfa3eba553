"""Fit jobs end to end: API → FitJob row → Redis → a real Celery worker → fitter → result kept.

The worker (``tests/fits/conftest.py``) is a subprocess on the real data ingested into a temp
store; the tests talk to it only through the API, the database and the broker. Jobs are created
over the API as a signed-in user and polled until they reach a final state.
"""
from __future__ import annotations

import time

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from fits.models import FitJob

# The period objects of the data README: a W UMa binary (one dense night) and an RR Lyrae.
PERIOD_OBJECT = "ZTF18adbaezj"
BINARY_OBJECT = "ZTF17aaaihfb"
# An asteroid of sso/aggregated-lightcurves with ephemerides (Phase, Dobs, Dhelio).
ASTEROID = "8467"
# About 6 s on this machine (1.2 s with period_min 0.01): long enough to kill a worker mid-fit.
SLOW_PERIOD = {"period_min": 0.002, "oversampling": 50, "nterms": 6, "nterms_band": 3}

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("astronomer", password="pw")


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def ask(api: APIClient, object_id: str, kind: str, parameters: dict | None = None, **extra):
    return api.post(
        "/api/v1/fits", {"objectId": object_id, "kind": kind, "parameters": parameters or {}, **extra}, format="json"
    )


def wait_final(job_id: int, worker, timeout: float = 120, client: APIClient | None = None) -> dict:
    """The job as the API shows it once done or failed (fails the test if it never gets there).

    Polls the database (the API would throttle a fast poller), then reads the API once.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = FitJob.objects.values_list("status", flat=True).get(pk=job_id)
        if status in ("done", "failed"):
            return (client or APIClient()).get(f"/api/v1/fits/{job_id}").json()
        time.sleep(0.2)
    pytest.fail(f"job {job_id} still {status} after {timeout} s; worker log:\n{worker.tail()}")


def wait_status(job_id: int, status: str, worker, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if FitJob.objects.get(pk=job_id).status == status:
            return
        time.sleep(0.1)
    pytest.fail(f"job {job_id} never {status}; worker log:\n{worker.tail()}")


# -- each fitter through the queue -----------------------------------------------------------------
def test_period_fit_runs_in_the_worker(api, fit_worker):
    response = ask(api, PERIOD_OBJECT, "period", {"period_max": 2})
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "queued" and created["reused"] is False
    assert created["parameters"]["period_max"] == 2.0 and created["parameters"]["nterms"] == 1  # defaults kept
    assert response["Location"] == f"/api/v1/fits/{created['id']}"

    job = wait_final(created["id"], fit_worker, client=api)
    assert job["status"] == "done", job["error"]
    result = job["result"]
    assert result["kind"] == "period"
    # An RR Lyrae: a fraction of a day (its daily aliases included), well inside the search range.
    assert 0.05 <= result["params"]["period"] <= 2.0
    assert result["stats"]["n_points"] >= 30  # the alerts plus their history detections
    assert job["attempts"] == 1 and job["duration"] > 0
    assert job["started"] and job["finished"]


def test_microlensing_fit_ends_done_or_with_a_clear_error(api, fit_worker):
    # No ZTF microlensing event is in the data: a variable star stands in; the job must still end.
    response = ask(api, BINARY_OBJECT, "microlensing")
    assert response.status_code == 201, response.json()
    job = wait_final(response.json()["id"], fit_worker, client=api)
    if job["status"] == "done":
        assert {"t0", "u0", "tE"} <= set(job["result"]["params"])
    else:
        assert job["error"] and "internal error" not in job["error"], job["error"]


def test_phase_curve_fit_of_an_asteroid(api, fit_worker):
    response = ask(api, ASTEROID, "phase_curve", {"model": "HG1G2"})
    assert response.status_code == 201, response.json()
    job = wait_final(response.json()["id"], fit_worker, client=api)
    assert job["status"] == "done", job["error"]
    params = job["result"]["params"]
    assert 5 < params["H_r"] < 25 and 0 <= params["G1_r"] <= 1
    assert job["result"]["options"] == {"model": "HG1G2", "weighted": False}


def test_too_few_points_fails_the_job_with_the_reason(api, fit_worker):
    # The aggregated file holds an asteroid without ephemerides: the phase curve cannot be fitted.
    response = ask(api, "2005XM12", "phase_curve")
    assert response.status_code == 201, response.json()
    job = wait_final(response.json()["id"], fit_worker, client=api)
    assert job["status"] == "failed"
    assert job["error"].startswith("lightcurve:") and job["result"] is None


# -- reuse -----------------------------------------------------------------------------------------
def test_a_repeat_request_reuses_the_kept_result(api, fit_worker):
    first = ask(api, PERIOD_OBJECT, "period", {"period_max": 1.5})
    job = wait_final(first.json()["id"], fit_worker, client=api)
    assert job["status"] == "done"

    # The same fit spelt differently (a default written out, a number as text): same job back.
    again = ask(api, PERIOD_OBJECT, "period", {"period_max": "1.5", "nterms": 1})
    assert again.status_code == 200
    assert again.json()["id"] == job["id"] and again.json()["reused"] is True
    assert again.json()["result"] == job["result"]
    assert FitJob.objects.count() == 1
    assert FitJob.objects.get().attempts == 1  # fitted once

    # Other options are another fit; force fits again.
    other = ask(api, PERIOD_OBJECT, "period", {"period_max": 1.0})
    assert other.status_code == 201
    forced = ask(api, PERIOD_OBJECT, "period", {"period_max": 1.5}, force=True)
    assert forced.status_code == 201 and forced.json()["id"] != job["id"]
    for response in (other, forced):
        assert wait_final(response.json()["id"], fit_worker, client=api)["status"] == "done"


def test_a_request_while_the_same_fit_is_queued_joins_it(api, fit_worker):
    first = ask(api, BINARY_OBJECT, "period", {"period_max": 1.0})
    second = ask(api, BINARY_OBJECT, "period", {"period_max": 1.0})
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert wait_final(first.json()["id"], fit_worker, client=api)["status"] == "done"
    assert FitJob.objects.count() == 1


# -- a worker lost mid-fit -------------------------------------------------------------------------
def test_a_worker_killed_mid_fit_leaves_the_job_retried_not_stuck(api, fit_worker):
    from tests.fits.conftest import VISIBILITY_TIMEOUT

    response = ask(api, PERIOD_OBJECT, "period", SLOW_PERIOD)
    job_id = response.json()["id"]
    wait_status(job_id, "running", fit_worker)
    time.sleep(1)
    fit_worker.kill()  # the whole worker, pool child included: SIGKILL, no clean-up
    assert FitJob.objects.get(pk=job_id).status == "running"  # what a dead worker leaves

    # The message was never acknowledged: once its visibility timeout passes, a new worker
    # takes it back and the job runs again (attempt 2).
    time.sleep(VISIBILITY_TIMEOUT + 1)
    fit_worker.start()
    job = wait_final(job_id, fit_worker, timeout=180, client=api)
    assert job["status"] == "done", job["error"]
    assert job["attempts"] == 2


def test_a_pool_process_killed_mid_fit_is_retried_then_failed_past_max_attempts(api, fit_worker):
    # The pool child dies (out of memory, segfault) while the worker lives: the worker requeues
    # the message (reject_on_worker_lost). FITS_MAX_ATTEMPTS=2 for the test worker: killing both
    # attempts fails the job with the reason, never leaves it running.
    import os
    import signal

    job_id = ask(api, PERIOD_OBJECT, "period", {**SLOW_PERIOD, "oversampling": 49}).json()["id"]
    for attempt in (1, 2):
        deadline = time.monotonic() + 60
        while FitJob.objects.get(pk=job_id).attempts < attempt or FitJob.objects.get(pk=job_id).status != "running":
            assert time.monotonic() < deadline, fit_worker.tail()
            time.sleep(0.1)
        time.sleep(0.5)
        for pid in fit_worker.pool_children():
            os.kill(pid, signal.SIGKILL)
    job = wait_final(job_id, fit_worker, timeout=60, client=api)
    assert job["status"] == "failed"
    assert "stopped without finishing" in job["error"] and job["attempts"] == 2


def test_the_reaper_settles_jobs_no_worker_will_finish(fit_worker, fit_store, user):
    # A job marked running long ago by a worker that is gone, whose message will not come back.
    from datetime import timedelta

    from django.utils import timezone

    from fits.services import params_hash

    started = timezone.now() - timedelta(hours=2)
    stale = {"object_id": PERIOD_OBJECT, "kind": "period", "parameters": {}, "status": "running", "started": started}
    retry = FitJob.objects.create(**stale, params_hash=params_hash(kind="period", parameters={}), attempts=1)
    give_up = FitJob.objects.create(**stale, params_hash="x", attempts=2)
    fresh = FitJob.objects.create(**{**stale, "started": timezone.now()}, params_hash="y", attempts=1)
    # A job queued long ago whose message is lost (a broker restarted without its queue).
    lost = FitJob.objects.create(
        object_id=ASTEROID, kind="phase_curve", parameters={"model": "HG", "weighted": False},
        params_hash="z", enqueued=timezone.now() - timedelta(hours=2),
    )

    call_command("fits_reap")

    assert FitJob.objects.get(pk=give_up.pk).status == "failed"
    assert "reaper" in FitJob.objects.get(pk=give_up.pk).error
    assert FitJob.objects.get(pk=fresh.pk).status == "running"  # a live worker may be on it
    # The retried one goes back to the queue and the worker finishes it.
    retried = FitJob.objects.get(pk=retry.pk)
    assert retried.status in ("queued", "running", "done")
    assert wait_final(retry.pk, fit_worker)["status"] == "done"
    assert wait_final(lost.pk, fit_worker)["status"] == "done"


def test_a_duplicate_message_for_a_running_job_is_dropped():
    from fits.services import fit_job_run

    job = FitJob.objects.create(object_id=PERIOD_OBJECT, kind="period", status="running", attempts=1)
    fit_job_run(job_id=job.pk)  # not a redelivery: another worker is on it
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("running", 1)
    fit_job_run(job_id=job.pk + 1000)  # a job deleted since: nothing to do, no error


# -- the API's refusals ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"kind": "period", "parameters": {"period_min": -1}}, "parameters.period_min"),
        ({"kind": "period", "parameters": {"nterms": "many"}}, "parameters.nterms"),
        ({"kind": "period", "parameters": {"bogus": 1}}, "parameters.bogus"),
        ({"kind": "phase_curve", "parameters": {"model": "XYZ"}}, "parameters.model"),
        ({"kind": "spline"}, "kind"),
        ({"kind": "period", "parameters": "[1, 2]"}, "parameters"),
        ({"parameters": {}}, "kind"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(api, fit_store, body, named):
    response = api.post("/api/v1/fits", {"objectId": PERIOD_OBJECT, **body}, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert response.json()["text"].startswith(f"{named}:"), response.json()
    assert not FitJob.objects.exists()


def test_an_unknown_object_is_a_404(api, fit_store):
    response = ask(api, "ZTF99zzzzzzz", "period")
    assert response.status_code == 404
    assert "ZTF99zzzzzzz" in response.json()["text"]
    assert not FitJob.objects.exists()


def test_anonymous_requests_cannot_ask_for_fits(fit_store):
    response = APIClient().post("/api/v1/fits", {"objectId": PERIOD_OBJECT, "kind": "period"}, format="json")
    assert response.status_code in (401, 403)
    assert response.json()["status"] == "error"
    assert not FitJob.objects.exists()


def test_a_token_authenticates_and_anyone_reads(user, fit_store):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    # A bad parameter keeps the job from being queued: no worker needed for this check.
    assert client.post("/api/v1/fits", {"objectId": PERIOD_OBJECT, "kind": "period", "parameters": {"nterms": 0}},
                       format="json").status_code == 400
    job = FitJob.objects.create(object_id=PERIOD_OBJECT, kind="period", parameters={}, params_hash="h")
    anonymous = APIClient()
    listed = anonymous.get("/api/v1/fits", {"objectId": PERIOD_OBJECT}).json()
    assert [j["id"] for j in listed] == [job.pk]
    assert anonymous.get("/api/v1/fits", {"objectId": "ZTF00other"}).json() == []
    assert anonymous.get(f"/api/v1/fits/{job.pk}").json()["status"] == "queued"
    assert anonymous.get("/api/v1/fits/999999").status_code == 404


# -- the admin -------------------------------------------------------------------------------------
def test_admin_runs_a_batch_of_fits_and_reruns_jobs(admin_client, fit_worker):
    page = admin_client.get("/admin/fits/fitjob/run/")
    assert page.status_code == 200 and b"Queue the fits" in page.content

    bad = admin_client.post(
        "/admin/fits/fitjob/run/", {"kind": "period", "object_ids": PERIOD_OBJECT, "parameters": '{"nterms": 0}'}
    )
    assert bad.status_code == 200 and b"nterms: must be &gt;= 1" in bad.content
    assert not FitJob.objects.exists()

    response = admin_client.post(
        "/admin/fits/fitjob/run/",
        {"kind": "period", "object_ids": f"{PERIOD_OBJECT}, {BINARY_OBJECT}\nZTF99zzzzzzz", "parameters": '{"period_max": 2}'},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "2 fit job(s) queued" in text and "ZTF99zzzzzzz" in text
    jobs = {job.object_id: job for job in FitJob.objects.all()}
    assert set(jobs) == {PERIOD_OBJECT, BINARY_OBJECT}
    assert all(job.requested_by.is_superuser for job in jobs.values())
    finished = {}
    for object_id, job in jobs.items():
        body = wait_final(job.pk, fit_worker, client=admin_client)
        assert body["status"] == "done", body["error"]
        finished[object_id] = body["finished"]

    listing = admin_client.get("/admin/fits/fitjob/", {"status__exact": "done"})
    assert listing.status_code == 200 and PERIOD_OBJECT in listing.content.decode()
    assert "Run fits" in listing.content.decode()

    rerun = jobs[PERIOD_OBJECT]
    admin_client.post("/admin/fits/fitjob/", {"action": "rerun_jobs", "_selected_action": [rerun.pk]})
    job = wait_final(rerun.pk, fit_worker, client=admin_client)
    assert job["status"] == "done" and job["attempts"] == 1
    assert job["finished"] > finished[PERIOD_OBJECT]  # fitted again
