"""``manage.py load_sso_names PATH``: the MPC's list of numbered minor planets into the asteroid
name table (name -> number look-ups of the Solar System searches)."""
from django.core.management.base import BaseCommand, CommandError

from ...sso_names import NAMES_URL, NamesFileError, asteroid_names_load


class Command(BaseCommand):
    help = (
        "Load asteroid names from the Minor Planet Center's NumberedMPs.txt (plain or .gz; "
        f"{NAMES_URL}). Replaces the names loaded before; a bad file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="NumberedMPs.txt or NumberedMPs.txt.gz")

    def handle(self, *args, path, **options):
        try:
            load = asteroid_names_load(path=path)
        except NamesFileError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{load.names} asteroid names loaded from {load.path} "
            f"({load.unnamed} numbered minor planets without a name skipped) in {load.seconds:.1f} s"
        )
