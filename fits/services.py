"""Writes of the fits app: create a fit job (or reuse a kept one), run it, fail it, reap it.

A job's life: :func:`fit_job_create` validates the parameters with the fitter's
``options_schema`` and enqueues the ``run_fit`` task once the row is committed; the worker calls
:func:`fit_job_run`, which always leaves the job done or failed. A worker that dies mid-fit
leaves the job ``running``: the redelivered message (``acks_late``) runs it again, up to
``FITS_MAX_ATTEMPTS`` starts, and :func:`fit_jobs_reap` (``manage.py fits_reap``) settles jobs
that no redelivery came for.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from store import StoreError

from .fitters import FitError, FitParameterError, get_fitter
from .models import FitJob
from .selectors import NoLightCurve, lightcurve_exists, lightcurve_of_object

logger = logging.getLogger(__name__)

Status = FitJob.Status


# -- parameters ---------------------------------------------------------------------------------
def fit_parameters_validate(*, kind: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fitter's options with defaults filled in, cast and range-checked.

    Raises
    ------
    FitParameterError
        An unknown kind (parameter ``kind``), or an option that is unknown, of the wrong type
        or out of range (the option's name).
    """
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise FitParameterError("parameters", "must be an object of fitter options")
    fitter = get_fitter(kind, settings.FITTERS)
    return fitter.validate_options(parameters)


def params_hash(*, kind: str, parameters: Mapping[str, Any]) -> str:
    """A stable digest of a fit's kind and validated parameters (the key of result reuse)."""
    canonical = json.dumps({"kind": kind, "parameters": parameters}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- create -------------------------------------------------------------------------------------
def fit_job_create(
    *,
    object_id: str,
    kind: str,
    parameters: Mapping[str, Any] | None,
    user: Any = None,
    force: bool = False,
) -> FitJob:
    """A job fitting ``object_id`` with the ``kind`` fitter: a kept one if possible, else a new one.

    Parameters
    ----------
    object_id : str
        ZTF objectId, or asteroid name (ssnamenr) for ``phase_curve``.
    kind : str
        Fitter kind (``settings.FITTERS``).
    parameters : mapping
        Fitter options; missing ones take their defaults, so ``{}`` and the defaults spelt out
        are the same fit.
    user : User, optional
        Who asked (None for the system).
    force : bool
        Fit again even when a finished job of the same fit exists.

    Returns
    -------
    FitJob
        With ``reused`` set: True when an existing job of the same object, kind and
        parameters (done, or still queued or running) answers the request and nothing new is
        fitted; False for a new job, enqueued once the surrounding transaction commits.

    Raises
    ------
    FitParameterError
        Bad kind or parameters (names the parameter).
    NoLightCurve
        The store holds nothing for this object.
    """
    object_id = (object_id or "").strip()
    if not object_id:
        raise FitParameterError("object_id", "is required")
    validated = fit_parameters_validate(kind=kind, parameters=parameters)
    digest = params_hash(kind=kind, parameters=validated)
    if not force:
        same = FitJob.objects.same_fit(object_id=object_id, kind=kind, params_hash=digest)
        # The latest result, else a run already under way.
        kept = (
            same.filter(status=Status.DONE).order_by("-finished", "-id").first()
            or same.filter(status__in=FitJob.ACTIVE).order_by("-id").first()
        )
        if kept is not None:
            kept.reused = True
            return kept
    if not lightcurve_exists(object_id=object_id, kind=kind):
        raise NoLightCurve(f"no light curve of {object_id} in the store for a {kind} fit")
    requested_by = user if user is not None and user.is_authenticated else None
    job = FitJob.objects.create(
        object_id=object_id, kind=kind, parameters=validated, params_hash=digest, requested_by=requested_by
    )
    fit_job_enqueue(job=job)
    job.reused = False
    return job


def fit_job_enqueue(*, job: FitJob) -> None:
    """Send the job to the workers once the current transaction commits.

    A broker that cannot be reached fails the job at once, saying so, rather than leaving it
    queued for a message that was never sent.
    """

    def send() -> None:
        from .tasks import run_fit

        try:
            # The task id was saved with the job: nothing is written after the send, when the
            # worker may already be updating the row.
            run_fit.apply_async(args=[job.pk], task_id=job.task_id)
        except Exception as exc:  # kombu raises several types for an unreachable broker
            logger.exception("could not queue fit job %s", job.pk)
            fit_job_fail(job_id=job.pk, error=f"could not queue the fit: the task broker is unreachable ({exc})")

    job.task_id, job.enqueued = str(uuid.uuid4()), timezone.now()
    FitJob.objects.filter(pk=job.pk).update(task_id=job.task_id, enqueued=job.enqueued)
    transaction.on_commit(send)


def fit_jobs_rerun(*, jobs) -> tuple[list[FitJob], list[FitJob]]:
    """Queue finished jobs again (result and error cleared); active ones are left alone.

    Returns
    -------
    (requeued, skipped) : lists of FitJob
    """
    requeued, skipped = [], []
    for job in jobs:
        updated = FitJob.objects.filter(pk=job.pk, status__in=(Status.DONE, Status.FAILED)).update(
            status=Status.QUEUED, result=None, error="", attempts=0, started=None, finished=None, duration=None
        )
        if updated:
            job.refresh_from_db()
            fit_job_enqueue(job=job)
            requeued.append(job)
        else:
            skipped.append(job)
    return requeued, skipped


# -- run ----------------------------------------------------------------------------------------
def _claim(job_id: int, *, resume: bool) -> FitJob | None:
    """Mark the job running for this attempt; None when it must not run.

    A queued job is claimed. A job found ``running`` is claimed again only when ``resume`` says
    its message came back after the worker running it died, and while attempts remain (else
    it is failed); any other message for a running job is a duplicate, and is dropped while the
    first run goes on. Each step is one conditional UPDATE, atomic on its own: no
    read-then-write transaction for two SQLite writers to deadlock on.
    """
    start = {"status": Status.RUNNING, "attempts": F("attempts") + 1, "started": timezone.now()}
    jobs = FitJob.objects.filter(pk=job_id)
    claimed = jobs.filter(status=Status.QUEUED).update(**start)
    if not claimed and resume:
        claimed = jobs.filter(status=Status.RUNNING, attempts__lt=settings.FITS_MAX_ATTEMPTS).update(**start)
    job = jobs.first()
    if job is None:
        logger.warning("fit job %s does not exist (deleted?): nothing to run", job_id)
        return None
    if claimed:
        return job
    if job.status == Status.RUNNING:
        if not resume:
            logger.warning("fit job %s is already running: duplicate message dropped", job_id)
            return None
        _finish(
            job,
            error=(
                f"the worker running this fit stopped without finishing it ({job.attempts} "
                "attempts: killed, out of memory or past the time limit); not retried"
            ),
            attempt=job.attempts,
        )
    return None


def fit_job_run(*, job_id: int, resume: bool = False) -> FitJob | None:
    """Run a job's fit in this process and save its result or its error.

    Always leaves the job done or failed (unless it was already final, or the process dies:
    then the redelivered task or the reaper settles it).

    Parameters
    ----------
    job_id : int
    resume : bool
        The request was handed back after the worker running it died (a redelivered message):
        a job still marked running is run again, up to ``FITS_MAX_ATTEMPTS`` starts.

    Returns
    -------
    FitJob or None
        The job as saved (None if it does not exist).
    """
    job = _claim(job_id, resume=resume)
    if job is None:
        return FitJob.objects.filter(pk=job_id).first()
    attempt = job.attempts
    try:
        lightcurve = lightcurve_of_object(object_id=job.object_id, kind=job.kind)
        result = get_fitter(job.kind, settings.FITTERS).fit(lightcurve, **job.parameters)
    except (FitParameterError, NoLightCurve) as exc:
        return _finish(job, error=str(exc), attempt=attempt)
    except FitError as exc:
        return _finish(job, error=f"the fit failed: {exc}", attempt=attempt)
    except SoftTimeLimitExceeded:
        limit = settings.FITS_SOFT_TIME_LIMIT
        return _finish(job, error=f"the fit took longer than the {limit} s limit and was stopped", attempt=attempt)
    except StoreError as exc:
        return _finish(job, error=f"alert store error: {exc}", attempt=attempt)
    except Exception as exc:  # a fitter bug must still end the job, with a trace in the log
        logger.exception("fit job %s crashed", job.pk)
        return _finish(job, error=f"internal error in the {job.kind} fitter: {type(exc).__name__}: {exc}", attempt=attempt)
    return _finish(job, result=result.to_json(), attempt=attempt)


def _finish(job: FitJob, *, result: dict | None = None, error: str = "", attempt: int | None = None) -> FitJob:
    """Save the end of a job. With ``attempt``, only if no later attempt started meanwhile."""
    now = timezone.now()
    values = {
        "status": Status.FAILED if error else Status.DONE,
        "result": result,
        "error": error,
        "finished": now,
        "duration": (now - job.started).total_seconds() if job.started else None,
    }
    jobs = FitJob.objects.filter(pk=job.pk)
    if attempt is not None:
        jobs = jobs.filter(attempts=attempt)
    if not jobs.update(**values):
        logger.warning("fit job %s: attempt %s superseded, its outcome is dropped", job.pk, attempt)
    for name, value in values.items():
        setattr(job, name, value)
    return job


def fit_job_fail(*, job_id: int, error: str) -> None:
    """Fail a job that is not final yet (a hard time limit, an unreachable broker)."""
    job = FitJob.objects.filter(pk=job_id).exclude(status__in=(Status.DONE, Status.FAILED)).first()
    if job is not None:
        _finish(job, error=error)


# -- reap ---------------------------------------------------------------------------------------
def fit_jobs_reap(*, older_than: timedelta | None = None, requeue: bool = True) -> dict[str, list[int]]:
    """Settle jobs left ``running`` longer than any live worker would run them.

    A worker stops a fit at ``FITS_TIME_LIMIT``; a job still running well after that was
    started by a worker that died and whose message did not come back.

    Parameters
    ----------
    older_than : timedelta, optional
        How long ago the job must have started (default ``FITS_TIME_LIMIT`` +
        ``FITS_REAP_GRACE`` seconds).
    requeue : bool
        Queue such a job again while it has attempts left (else fail it).

    Jobs queued for longer than ``FITS_REAP_QUEUED_AFTER`` seconds since they were last sent
    are sent again (their message may be lost: a broker restarted without its queue). A
    duplicate message is harmless: the first one claims the job, the others find it running
    or finished and drop.

    Returns
    -------
    dict
        ``{"requeued": [ids], "failed": [ids], "resent": [ids]}``.
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.FITS_TIME_LIMIT + settings.FITS_REAP_GRACE)
    cutoff = timezone.now() - older_than
    outcome: dict[str, list[int]] = {"requeued": [], "failed": [], "resent": []}
    for job in FitJob.objects.filter(status=Status.RUNNING, started__lt=cutoff):
        if requeue and job.attempts < settings.FITS_MAX_ATTEMPTS:
            if FitJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=job.attempts).update(
                status=Status.QUEUED
            ):
                fit_job_enqueue(job=job)
                outcome["requeued"].append(job.pk)
            continue
        updated = _finish(
            job,
            error=(
                f"the worker running this fit stopped without finishing it (running since "
                f"{job.started:%Y-%m-%d %H:%M:%S} UTC, {job.attempts} attempts); marked failed by the reaper"
            ),
            attempt=job.attempts,
        )
        if updated.status == Status.FAILED:
            outcome["failed"].append(job.pk)
    resend_before = timezone.now() - timedelta(seconds=settings.FITS_REAP_QUEUED_AFTER)
    for job in FitJob.objects.filter(status=Status.QUEUED, enqueued__lt=resend_before):
        fit_job_enqueue(job=job)
        outcome["resent"].append(job.pk)
    return outcome
