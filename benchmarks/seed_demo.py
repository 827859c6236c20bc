"""Time `seed_demo` at full size and print one JSON line.

    PORTAL_DEV=1 PORTAL_DATA_DIR=/tmp/portal-bench python benchmarks/seed_demo.py [--pupils N]
        [--seed S] [--with-marks]

DESTRUCTIVE for the database it points at: it runs `seed_demo --reset` (wipes every school,
pupil and @demo.test user). Point PORTAL_DATA_DIR (embedded PostgreSQL) or DATABASE_URL at a
throwaway database. Marks are skipped unless --with-marks (they have their own benchmark).
Output: {"pupils": …, "schools": …, "enrolments": …, "seconds": …, "pupils_per_second": …}
"""

import argparse
import io
import json
import os
import sys
import time
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_portal.settings")
os.environ.setdefault("PORTAL_DEV", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=40500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--with-marks", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from pupils.models import Enrolment, Pupil
    from schools.models import School

    call_command("migrate", verbosity=0)
    options = {"pupils": args.pupils, "seed": args.seed, "reset": True,
               "no_marks": not args.with_marks}
    started = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        call_command("seed_demo", stdout=io.StringIO(), **options)
    seconds = time.perf_counter() - started
    pupils = Pupil.objects.count()
    print(json.dumps({
        "pupils": pupils, "schools": School.objects.count(),
        "enrolments": Enrolment.objects.count(), "seconds": round(seconds, 2),
        "pupils_per_second": round(pupils / seconds), "marks": args.with_marks,
    }))


if __name__ == "__main__":
    main()
