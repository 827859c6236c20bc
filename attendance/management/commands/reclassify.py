import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from attendance.classification import ReclassificationBusy, pupils_reclassify


class Command(BaseCommand):
    help = "Recompute every pupil's summary, band, band history and alerts (the nightly job)."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, default=None,
                            help="the date to classify as of, YYYY-MM-DD (default: today)")
        parser.add_argument("--school", action="append", default=None, metavar="URN",
                            help="only the pupils of this school (repeatable)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        from schools.models import School

        as_of = options["as_of"] or timezone.localdate()
        school_ids = None
        if options["school"]:
            found = dict(School.objects.filter(urn__in=options["school"]).values_list("urn", "pk"))
            missing = sorted(set(options["school"]) - set(found))
            if missing:
                raise CommandError(f"No school with URN {', '.join(missing)}.")
            school_ids = list(found.values())
        try:
            result = pupils_reclassify(as_of=as_of, school_ids=school_ids)
        except ReclassificationBusy as busy:
            raise CommandError(str(busy)) from busy
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            self.stdout.write(
                f"Classified {result.pupils} pupils as of {as_of:%d/%m/%Y}: {result.changed} "
                f"changed band, {result.alerts_raised} alerts raised ({result.seconds:.1f} s)."
            )
