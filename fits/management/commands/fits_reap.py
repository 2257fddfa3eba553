"""``manage.py fits_reap``: settle fit jobs left running by a worker that died."""
from datetime import timedelta

from django.core.management.base import BaseCommand

from fits.services import fit_jobs_reap


class Command(BaseCommand):
    help = (
        "Requeue (while attempts remain) or fail fit jobs still 'running' longer than the hard time "
        "limit plus FITS_REAP_GRACE: their worker died; send again jobs queued longer than "
        "FITS_REAP_QUEUED_AFTER. Run it from cron, or let Celery beat run fits.reap_fits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=float, default=None,
            help="seconds since the job started (default FITS_TIME_LIMIT + FITS_REAP_GRACE)",
        )
        parser.add_argument("--fail", action="store_true", help="fail such jobs instead of requeueing them")

    def handle(self, *args, older_than=None, fail=False, **options):
        outcome = fit_jobs_reap(
            older_than=None if older_than is None else timedelta(seconds=older_than), requeue=not fail
        )
        self.stdout.write(
            f"requeued {len(outcome['requeued'])} job(s) {outcome['requeued']}, "
            f"failed {len(outcome['failed'])} job(s) {outcome['failed']}, "
            f"sent again {len(outcome['resent'])} queued job(s) {outcome['resent']}"
        )
