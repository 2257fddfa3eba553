"""Fit jobs: one row per fit asked for, with its state, result or error.

A job goes queued → running → done | failed and never stays running: a worker that dies
mid-fit has its message redelivered (the task is ``acks_late``) and the next attempt either
runs the fit again or, past ``FITS_MAX_ATTEMPTS``, fails it; ``manage.py fits_reap`` fails or
requeues jobs left running past the hard time limit when no redelivery comes (a broker
without redelivery, a lost message), and sends again jobs queued for long (a lost message).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class FitJobQuerySet(models.QuerySet):
    def of_object(self, object_id: str) -> FitJobQuerySet:
        return self.filter(object_id=object_id)

    def same_fit(self, *, object_id: str, kind: str, params_hash: str) -> FitJobQuerySet:
        """Jobs of the same fit: same object, fitter and validated parameters."""
        return self.filter(object_id=object_id, kind=kind, params_hash=params_hash)


class FitJob(models.Model):
    """A fit of one object's light curve by one fitter with given parameters."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    #: States a job can leave; done and failed are final.
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    object_id = models.CharField(
        max_length=64, db_index=True, help_text="ZTF objectId, or the asteroid name (ssnamenr) for phase curves"
    )
    kind = models.CharField(max_length=32, help_text="fitter kind: period, microlensing, phase_curve")
    parameters = models.JSONField(default=dict, blank=True, help_text="validated fitter options, defaults filled in")
    # sha256 of kind + canonical JSON of ``parameters``: identical requests find the kept result.
    params_hash = models.CharField(max_length=64, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="fit_jobs"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="seconds from the last start to the end")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="times a worker started this job")
    task_id = models.CharField(max_length=64, blank=True, default="", help_text="Celery id of the last enqueue")
    enqueued = models.DateTimeField(null=True, blank=True, help_text="when the job was last sent to the workers")

    objects = FitJobQuerySet.as_manager()

    class Meta:
        ordering = ("-created", "-id")
        indexes = (models.Index(fields=["object_id", "kind", "params_hash"], name="fit_job_same_fit"),)

    def __str__(self) -> str:
        return f"{self.kind} fit of {self.object_id} #{self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
