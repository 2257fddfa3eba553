"""``manage.py ingest_demo [PATH ...]``: ingest the demo data when the store holds no alert yet."""
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from store import get_store

from ...datadir import find_data_dir
from ...tables import ALL_TABLES, Alert


class Command(BaseCommand):
    help = "Ingest ../shared/data (or PORTAL_DATA, or the given paths) if the store holds no alert."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*")

    def handle(self, *args, paths, **options):
        store = get_store()
        store.create(*ALL_TABLES)
        with store[Alert].scan(start=b"\x00", columns=["i:jd"], limit=1) as scan:
            if next(scan, None) is not None and not paths:
                self.stdout.write("the store already holds alerts: no demo ingest")
                return
        if not paths:
            found = find_data_dir()
            if settings.PORTAL_DATA:
                paths = [settings.PORTAL_DATA]
            elif found is not None:
                paths = [str(found)]
            else:
                self.stderr.write("no demo data found: set PORTAL_DATA or pass a path")
                return
        self.stdout.write(f"ingesting demo data from {', '.join(paths)}")
        try:
            call_command("ingest", *paths)
        except SystemExit as exc:  # some files were not ingestable: say so, keep serving
            if exc.code:
                self.stderr.write("some demo files could not be ingested (see above)")
