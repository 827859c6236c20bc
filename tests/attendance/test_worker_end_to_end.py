"""A real Celery worker on the embedded Redis: import → task → band change → alert → email."""

import io
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from alerts.models import Alert, Rule
from attendance.bands import Band
from attendance.classification import pupils_reclassify
from attendance.models import ImportRun, PupilSummary
from attendance.services import register_import_create
from attendance_portal.celery import app as celery_app
from schools.calendar import school_days
from tests.attendance.test_classification import write_marks
from tests.factories import AllocationFactory, academic_year_2025

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    """Start `celery worker` against this test database and broker; stop it afterwards."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}/{db['NAME']}",
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "PORTAL_DEV": "1",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    })
    log = open(tmp_path / "worker.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "attendance_portal", "worker", "--pool", "solo",
         "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    celery_app.conf.task_always_eager = False
    try:
        yield tmp_path
    finally:
        celery_app.conf.task_always_eager = True
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wait_for(check, *, seconds=90, what="", log=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.5)
    detail = log.read_text()[-3000:] if log else ""
    raise AssertionError(f"timed out waiting for {what}\n{detail}")


def test_it_imports_classifies_and_alerts_through_a_real_worker(
    worker, school, pupil, social_worker
):
    academic_year_2025()
    AllocationFactory(pupil=pupil, social_worker=social_worker)
    good_until = write_marks(pupil, school, ["/"] * 40)  # 20 school days, all present
    pupils_reclassify(as_of=good_until)
    assert PupilSummary.objects.get(pupil=pupil, school=None).band == Band.EXPECTED

    days = [d for d in school_days(start=good_until, end=date(2026, 7, 22)) if d > good_until]
    lines = ["UPN,Date,AM,PM"] + [f"{pupil.upn},{d:%d/%m/%Y},N,N" for d in days[:8]]
    run = register_import_create(file=io.BytesIO("\n".join(lines).encode()),
                                 filename="register.csv", school=school, user=None)

    log = worker / "worker.log"
    wait_for(lambda: ImportRun.objects.get(pk=run.pk).status in {"applied", "rejected", "failed"},
             what="the import", log=log)
    run.refresh_from_db()
    assert run.status == "applied", run.message
    assert run.inserted == 16  # session marks: 8 days × AM and PM

    wait_for(lambda: Alert.objects.filter(recipient=social_worker, pupil=pupil).count() >= 2,
             what="the alerts", log=log)
    summary = PupilSummary.objects.get(pupil=pupil, school=None)
    assert (summary.attended, summary.possible) == (40, 56)
    assert summary.band == Band.AT_RISK_OF_SA
    rules = set(Alert.objects.filter(pupil=pupil).values_list("rule", flat=True))
    assert rules == {Rule.ENTERED_PA, Rule.UNEXPLAINED_RUN}  # 71.4%: band 1 to band 4

    mail_dir = worker / "mail"
    wait_for(lambda: mail_dir.exists() and len(list(mail_dir.iterdir())) >= 1,
             what="the email", log=log)
    sent = "".join(p.read_text() for p in mail_dir.iterdir())
    assert social_worker.email in sent and "New attendance alert" in sent
    assert pupil.surname not in sent
