import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        from django.db import transaction
        from django.db.models.signals import post_delete, post_migrate, post_save

        from attendance.models import ReclassificationRun
        from reports.caching import data_changed
        from reports.models import BenchmarkFigure

        def benchmark_saved(**kwargs):
            data_changed()

        def migrated(**kwargs):
            """A deploy may change figures (a data migration of benchmarks) or what a page
            shows: cached dashboards are forgotten. Never fails a migration over the cache."""
            try:
                data_changed()
            except Exception:  # noqa: BLE001 (no cache server while migrating: nothing cached)
                logger.warning("Could not reset the dashboards' cache after migrating")

        def run_recorded(instance, created, **kwargs):
            """After each run, city-wide (nightly) or per school (after an import): the term
            summaries of its year, in the worker; a per-school run refreshes its pupils only."""
            if created and instance.school_ids != []:  # [] covered no pupil
                from reports.tasks import refresh_term_summaries

                year = instance.as_of.year if instance.as_of.month >= 9 else instance.as_of.year - 1
                school_ids = instance.school_ids

                def queue():
                    try:
                        refresh_term_summaries.delay(year, school_ids)
                    except Exception:  # no broker: the nightly run itself has succeeded
                        logger.exception("Could not queue the term summaries refresh")

                transaction.on_commit(queue)

        post_save.connect(benchmark_saved, sender=BenchmarkFigure, weak=False,
                          dispatch_uid="reports-benchmark-saved")
        post_delete.connect(benchmark_saved, sender=BenchmarkFigure, weak=False,
                            dispatch_uid="reports-benchmark-deleted")
        post_migrate.connect(migrated, sender=self, weak=False,
                             dispatch_uid="reports-migrated")
        post_save.connect(run_recorded, sender=ReclassificationRun, weak=False,
                          dispatch_uid="reports-run-recorded")
