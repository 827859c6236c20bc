"""python manage.py import_schools FILE [--dry-run]: load a GIAS establishments export."""

from django.core.management.base import BaseCommand

from schools.imports import run_import_command
from schools.services import schools_import_gias


class Command(BaseCommand):
    help = (
        "Create or update schools (by URN) from a Get Information About Schools CSV or XLSX "
        "export. All or nothing: if any row is bad, every bad row is listed and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="GIAS export (CSV in UTF-8 or Windows-1252, or XLSX)")
        parser.add_argument("--dry-run", action="store_true",
                            help="validate and report what would change, write nothing")

    def handle(self, *args, file, dry_run, **options):
        run_import_command(
            self, lambda: schools_import_gias(path=file, dry_run=dry_run),
            dry_run=dry_run,
        )
