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

from .services import fit_job_fail, fit_job_run, fit_jobs_reap


class FitTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if isinstance(exc, TimeLimitExceeded) and args:
            fit_job_fail(
                job_id=args[0],
                error=f"the fit took longer than the {settings.FITS_TIME_LIMIT} s hard limit and was killed",
            )


@shared_task(
    base=FitTask,
    name="fits.run_fit",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.FITS_SOFT_TIME_LIMIT,
    time_limit=settings.FITS_TIME_LIMIT,
    ignore_result=True,
)
def run_fit(job_id: int) -> str | None:
    """Run fit job ``job_id``; returns its final status (None for a job that does not exist)."""
    job = fit_job_run(job_id=job_id)
    return None if job is None else job.status


@shared_task(name="fits.reap_fits", ignore_result=True)
def reap_fits() -> dict[str, list[int]]:
    """Periodic check (Celery beat, ``CELERY_BEAT_SCHEDULE``): settle jobs left running by dead workers."""
    return fit_jobs_reap()
