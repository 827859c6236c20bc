"""Rows that data migrations write (codes, beat schedules) and a transactional test's flush
empties. Put back before each database test so test order never matters."""

import importlib

from django.apps import apps

DATA_MIGRATIONS = [
    ("attendance.migrations.0002_attendance_codes", "load", "attendance.AttendanceCode"),
    ("attendance.migrations.0004_nightly_schedule", "schedule", "django_celery_beat.PeriodicTask"),
    ("alerts.migrations.0002_digest_schedule", "schedule", "django_celery_beat.PeriodicTask"),
    ("tsm.migrations.0002_reminder_schedule", "schedule", "django_celery_beat.PeriodicTask"),
    ("reports.migrations.0003_monthly_report_term_summary", "schedule",
     "django_celery_beat.PeriodicTask"),
    ("reports.migrations.0002_benchmark_figures_seed", "forwards", "reports.BenchmarkFigure"),
    ("reports.migrations.0004_benchmark_social_care_seed", "forwards",
     "reports.BenchmarkFigure"),
]


def reference_data_ensure() -> None:
    from django_celery_beat.models import PeriodicTask

    from attendance.models import AttendanceCode
    from reports.models import BenchmarkFigure

    schedules = sum(1 for *_, model in DATA_MIGRATIONS if model.endswith("PeriodicTask"))
    if (AttendanceCode.objects.exists() and PeriodicTask.objects.count() >= schedules
            and BenchmarkFigure.objects.exists()):
        return
    for module, function, _ in DATA_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
