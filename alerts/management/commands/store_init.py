"""Create every alert table (and its schema row) in the configured store."""
from django.core.management.base import BaseCommand, CommandError

from store import StoreError, get_store


class Command(BaseCommand):
    help = "Create the store's tables if missing (idempotent)."

    def handle(self, *args, **options):
        from alerts.tables import ALL_TABLES

        store = get_store()
        try:
            store.create(*ALL_TABLES)
            names = sorted(store.tables())
        except StoreError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{store.name} store ready: {', '.join(names)}")
