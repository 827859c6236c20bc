"""python manage.py import_roster FILE [--effective-date YYYY-MM-DD] [--dry-run]."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from attendance_portal.errors import ApplicationError
from pupils.services import roster_import
from schools.imports import ImportRejected


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
        try:
            report = roster_import(path=file, effective_date=effective_date, dry_run=dry_run)
        except ImportRejected as exc:
            for line in exc.report.lines():
                self.stderr.write(line)
            raise CommandError(exc.message) from exc
        except (ApplicationError, OSError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        for line in report.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("dry run: nothing was written")
