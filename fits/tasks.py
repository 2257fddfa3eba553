"""Celery tasks of the fits app: thin wrappers that load a job by id and call a service.

``run_fit`` is ``acks_late`` with ``reject_on_worker_lost``: the broker keeps its message until the
fit ends, so a worker killed mid-fit (SIGKILL, out of memory, machine lost) gives the message back
and another worker runs the job again (``fit_job_run`` counts the attempts and fails the job past
``FITS_MAX_ATTEMPTS``). A fit past the soft limit is stopped and failed by the service; past the
hard limit the child process is killed and :meth:`FitTask.on_failure` (worker's main process)
fails the job.
"""
from __future__ import annotations

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError

from .services import fit_job_fail, fit_job_run, fit_jobs_reap


class FitTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        """The task itself failed (not the fit, whose errors the service saves): past the hard
        time limit, or a database error that outlived the retries. A message given back after a
        worker loss does not come here."""
        if not args:
            return
        if isinstance(exc, TimeLimitExceeded):
            error = f"the fit took longer than the {settings.FITS_TIME_LIMIT} s hard limit and was killed"
        else:
            error = f"the fit task failed: {type(exc).__name__}: {exc}"
        fit_job_fail(job_id=args[0], error=error)


@shared_task(
    bind=True,
    base=FitTask,
    name="fits.run_fit",
    acks_late=True,
    reject_on_worker_lost=True,
    # The job row could not be read or written (a locked SQLite file, a database restart).
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    max_retries=4,
    soft_time_limit=settings.FITS_SOFT_TIME_LIMIT,
    time_limit=settings.FITS_TIME_LIMIT,
    ignore_result=True,
)
def run_fit(self, job_id: int) -> str | None:
    """Run fit job ``job_id``; returns its final status (None for a job that does not exist)."""
    # The broker marks a message it gives back after a worker loss (visibility timeout, or a
    # reject after the pool process died) as redelivered; a retry after a database error
    # resumes the attempt it interrupted.
    redelivered = bool((self.request.delivery_info or {}).get("redelivered")) or self.request.retries > 0
    job = fit_job_run(job_id=job_id, resume=redelivered)
    return None if job is None else job.status


@shared_task(name="fits.reap_fits", ignore_result=True)
def reap_fits() -> dict[str, list[int]]:
    """Periodic check (Celery beat, ``CELERY_BEAT_SCHEDULE``): settle jobs left running by dead workers."""
    return fit_jobs_reap()
