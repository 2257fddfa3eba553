"""Admin pages of the fits app: watch the fit queue, re-run jobs, run batch fits.

Objects are not Django models (they live in the alert store), so batch fits are a page of their
own ("Run fits", linked from the job list): a fitter kind, a list of object ids and the fitter
options make one job per object, through the same service as the API.
"""
from __future__ import annotations

import json
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .fitters import FitParameterError, available_fitters
from .models import FitJob
from .selectors import NoLightCurve
from .services import fit_job_create, fit_jobs_rerun, fit_parameters_validate

#: Objects one "Run fits" submission may name.
MAX_BATCH = 1000


def _kind_choices() -> list[tuple[str, str]]:
    return [(kind, kind) for kind in available_fitters(settings.FITTERS)]


class RunFitsForm(forms.Form):
    kind = forms.ChoiceField(choices=_kind_choices)
    object_ids = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "cols": 40}),
        help_text="ZTF objectIds (asteroid names for phase_curve), separated by commas, spaces or lines",
    )
    parameters = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text='fitter options as a JSON object, e.g. {"period_max": 2}; empty: defaults',
    )
    force = forms.BooleanField(required=False, help_text="fit again even where a kept result exists")

    def clean_object_ids(self) -> list[str]:
        ids = list(dict.fromkeys(p for p in re.split(r"[\s,;]+", self.cleaned_data["object_ids"]) if p))
        if not ids:
            raise forms.ValidationError("give at least one object id")
        if len(ids) > MAX_BATCH:
            raise forms.ValidationError(f"at most {MAX_BATCH} objects at once (got {len(ids)})")
        return ids

    def clean_parameters(self) -> dict:
        text = self.cleaned_data["parameters"].strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("must be a JSON object")
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if "kind" in cleaned and "parameters" in cleaned:
            try:
                fit_parameters_validate(kind=cleaned["kind"], parameters=cleaned["parameters"])
            except FitParameterError as exc:
                self.add_error("parameters", str(exc))
        return cleaned


@admin.register(FitJob)
class FitJobAdmin(admin.ModelAdmin):
    list_display = ("id", "object_id", "kind", "status", "attempts", "requested_by", "created", "duration")
    list_filter = ("status", "kind", "created")
    search_fields = ("object_id",)
    date_hierarchy = "created"
    readonly_fields = (
        "object_id", "kind", "parameters", "params_hash", "status", "requested_by", "created", "started",
        "finished", "duration", "attempts", "task_id", "error", "result",
    )
    actions = ("rerun_jobs",)
    change_list_template = "admin/fits/fitjob/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are made by "Run fits" or the API, which validate and enqueue them

    @admin.action(description="Re-run selected jobs (finished ones; result cleared)")
    def rerun_jobs(self, request: HttpRequest, queryset) -> None:
        requeued, skipped = fit_jobs_rerun(jobs=list(queryset))
        self.message_user(request, f"{len(requeued)} job(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{len(skipped)} job(s) still queued or running were left alone.", messages.WARNING
            )

    def get_urls(self):
        run = path("run/", self.admin_site.admin_view(self.run_fits_view), name="fits_fitjob_run")
        return [run, *super().get_urls()]

    def run_fits_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request) or not request.user.has_perm("fits.add_fitjob"):
            return HttpResponseRedirect(reverse("admin:index"))
        form = RunFitsForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            created, reused, missing = 0, 0, []
            for object_id in form.cleaned_data["object_ids"]:
                try:
                    job = fit_job_create(
                        object_id=object_id,
                        kind=form.cleaned_data["kind"],
                        parameters=form.cleaned_data["parameters"],
                        user=request.user,
                        force=form.cleaned_data["force"],
                    )
                except NoLightCurve:
                    missing.append(object_id)
                    continue
                reused += job.reused
                created += not job.reused
            self.message_user(
                request, f"{created} fit job(s) queued, {reused} answered by kept jobs.", messages.SUCCESS
            )
            if missing:
                self.message_user(
                    request, f"Nothing stored for {len(missing)} object(s): {', '.join(missing[:20])}", messages.WARNING
                )
            return HttpResponseRedirect(reverse("admin:fits_fitjob_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Run fits",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/fits/fitjob/run_fits.html", context)
