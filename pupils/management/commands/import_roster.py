"""python manage.py import_roster FILE [--effective-date YYYY-MM-DD] [--dry-run]."""

from datetime import date

from django.core.management.base import BaseCommand

from pupils.services import roster_import
from schools.imports import run_import_command


class Command(BaseCommand):
    help = (
        "Create or update pupils, enrolments and characteristics snapshots from a MIS roster "
        "(CSV or XLSX; headers in docs/roster-formats.md). All or nothing: if any row is bad, "
        "every bad row is listed with its line and nothing is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--effective-date", type=date.fromisoformat, default=None,
                            help="date the characteristics snapshot takes effect (default today)")
        parser.add_argument("--dry-run", action="store_true",
                            help="validate and count what would change, write nothing")

    def handle(self, *args, file, effective_date, dry_run, **options):
        run_import_command(
            self, lambda: roster_import(path=file, effective_date=effective_date, dry_run=dry_run),
            dry_run=dry_run,
        )
