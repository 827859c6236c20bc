import csv
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from attendance.selectors import band_export_rows


class Command(BaseCommand):
    help = "Write CSV to stdout: a row per pupil and school with their figures and band."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                            help="academic year containing this date (default: today)")
        parser.add_argument("--school", metavar="URN", default=None)

    def handle(self, *args, **options):
        as_of = options["as_of"] or timezone.localdate()
        try:
            rows = band_export_rows(as_of=as_of, school_urn=options["school"])
        except LookupError as missing:
            raise CommandError(str(missing)) from missing
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["upn", "urn", "academic_year", "as_of", "possible", "attended",
                         "authorised", "unauthorised", "rate", "band", "recent_band",
                         "projected_band"])
        for row in rows:
            writer.writerow(row)
