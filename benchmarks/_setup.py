"""Shared start-up for benchmark scripts: their own embedded database, Django ready."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_ready(data_dir_name: str = "bench") -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("PORTAL_DEV", "1")
    os.environ.setdefault("PORTAL_DATA_DIR", str(ROOT / ".data" / data_dir_name))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_portal.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_city(pupils: int, seed: int = 2026) -> None:
    """Build the demo city (with a year of marks) at this size unless it is already there."""
    from django.core.management import call_command

    from pupils.models import Pupil

    have = Pupil.objects.count()
    if abs(have - pupils) > pupils * 0.02:
        call_command("seed_demo", "--pupils", str(pupils), "--seed", str(seed), "--reset",
                     "--no-reclassify", verbosity=0, stdout=open(os.devnull, "w"))
