"""``manage.py ingest PATH [PATH ...]``: alert files (Parquet, Avro), folders or globs into the store."""
import sys

from django.core.management.base import BaseCommand, CommandError

from store import StoreError, get_store

from ...ingest import expand_paths, ingest_paths
from ...tables import ALL_TABLES


class Command(BaseCommand):
    help = "Ingest alert files (Fink Parquet, Fink/ZTF Avro, Fink-FAT, SSO light curves): files, folders or globs."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files, folders (walked recursively) or glob patterns")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--workers", type=int, default=1,
            help="processes to spread the files over (HBase: all write at once; embedded: "
            "reading and row building run in parallel, LMDB's single writer takes turns)",
        )

    def handle(self, *args, paths, no_progress=False, workers=1, **options):
        files, missing = expand_paths(paths)
        for arg in missing:
            self.stderr.write(f"{arg}: no such file or folder (or nothing to ingest in it)")
        if not files:
            raise CommandError("nothing to ingest")
        store = get_store()
        try:
            store.create(*ALL_TABLES)
            report = run_with_progress(files, store, not no_progress and sys.stderr.isatty(), workers)
        except StoreError as exc:
            raise CommandError(f"store error: {exc}") from None
        for outcome in report.errors:
            self.stderr.write(f"{outcome.path}: {outcome.error}")
        for outcome in report.skipped:
            self.stdout.write(f"skipped {outcome.path} ({outcome.kind[6:]}: not alert data)")
        self.stdout.write(
            f"{len(report.files) - len(report.errors) - len(report.skipped)} files ingested, "
            f"{len(report.errors)} failed, {len(report.skipped)} skipped: "
            f"{report.total('alerts')} alerts, {report.total('objects')} objects, "
            f"{report.total('upper_limits')} upper limits, {report.total('bad_quality')} bad-quality points, "
            f"{report.total('other_rows')} other rows in {report.seconds:.1f} s "
            f"({report.rate:.0f} alerts/s)"
        )
        if report.errors or missing:
            sys.exit(1)


def run_with_progress(files, store, show: bool, workers: int = 1):
    from tqdm import tqdm

    with tqdm(total=len(files), unit="file", disable=not show, dynamic_ncols=True) as bar:
        alerts = [0]

        def progress(n):
            alerts[0] += n
            rate = alerts[0] / max(bar.format_dict["elapsed"], 1e-9)
            bar.set_postfix_str(f"{alerts[0]} alerts, {rate:.0f} alerts/s")

        return ingest_paths(
            files, store=store, progress=progress, workers=workers, on_file=lambda _: bar.update(1)
        )
