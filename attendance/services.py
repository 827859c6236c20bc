"""Register imports: the functions that change state. Views, API, tasks and commands call these.

    register_import_create(*, file, filename, school, user, mode, enqueue=True) -> ImportRun
    register_import_claim(*, run_id) -> bool
    register_import_apply(*, run_id, today=None) -> ImportRun
    school_summaries_refresh(*, school_ids, as_of) -> None   (called after a successful import)

``create`` stores the upload under MEDIA_ROOT/imports/<sha256> and, after the transaction
commits, enqueues ``attendance.tasks.register_import_task``; the task claims the run
(PENDING → RUNNING, one worker only) and calls ``apply``. The management command claims and
applies in-process.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from attendance.importers import read_register
from attendance.loading import LoadCounts, marks_load, schools_lock
from attendance.models import ImportRun
from attendance_portal.errors import ApplicationError

logger = logging.getLogger(__name__)

MAX_FILENAME = 255


def imports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(file, *, filename: str) -> tuple[str, str]:
    """Copy the upload to imports/<sha256>, hashing while copying; returns (path, sha256)."""
    folder = imports_dir()
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            if hasattr(file, "chunks"):
                blocks = file.chunks()
            else:
                if hasattr(file, "seek"):
                    file.seek(0)
                blocks = iter(lambda: file.read(1024 * 1024), b"")
            for block in blocks:
                digest.update(block)
                out.write(block)
        sha = digest.hexdigest()
        target = folder / sha
        if target.exists():
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return str(target), sha


def register_import_create(*, file, filename: str, school, user,
                           mode: str = ImportRun.Mode.ALL_OR_NOTHING,
                           enqueue: bool = True) -> ImportRun:
    """Store an uploaded register file and queue its import.

    ``file`` is a Django UploadedFile or any binary file object. ``school`` is the School the
    file is for, or None when the file names its school(s) (CTF LEA+Estab, a URN column, a .zip
    of several schools). The caller has already checked that ``user`` may import for
    ``school`` (see attendance.api); rows naming other schools are checked against the user's
    scope during the import.
    """
    if mode not in ImportRun.Mode.values:
        raise ApplicationError(f"Unknown import mode '{mode}'. Use one of: "
                               f"{', '.join(ImportRun.Mode.values)}.")
    filename = os.path.basename(str(filename or "upload"))[:MAX_FILENAME]
    if not filename:
        raise ApplicationError("The uploaded file has no name.")
    stored, sha = _store(file, filename=filename)
    run = ImportRun(user=user if getattr(user, "pk", None) else None, school=school,
                    original_filename=filename, stored_path=stored, sha256=sha, mode=mode,
                    status=ImportRun.Status.PENDING)
    run.full_clean()
    run.save()
    if enqueue:
        from attendance.tasks import register_import_task

        transaction.on_commit(lambda: register_import_task.delay(run.id))
    return run


def register_import_claim(*, run_id: int) -> bool:
    """Take a pending run (PENDING → RUNNING). False when another worker already has it."""
    return ImportRun.objects.filter(id=run_id, status=ImportRun.Status.PENDING).update(
        status=ImportRun.Status.RUNNING, started_at=timezone.now()) == 1


class _Rollback(Exception):
    pass


def register_import_apply(*, run_id: int, today: date | None = None) -> ImportRun:
    """Read, check and (if it passes) load a claimed run's file, in one transaction.

    all_or_nothing (default): any error rejects the whole file and nothing is written.
    apply_valid: the valid marks are written and the rejected ones listed. A file-level problem
    (empty, not a register, missing column) rejects the file in both modes. An unexpected
    failure (database error, bug) marks the run FAILED; the transaction leaves nothing behind.
    """
    run = ImportRun.objects.select_related("school", "user").get(id=run_id)
    if run.status != ImportRun.Status.RUNNING:
        raise ApplicationError(f"Import {run_id} is {run.status}; only a claimed (running) "
                               "import can be applied.")
    started = time.monotonic()
    today = today or timezone.localdate()
    allowed = _allowed_school_ids(run.user)
    try:
        result = read_register(path=Path(run.stored_path), filename=run.original_filename,
                               school=run.school, allowed_school_ids=allowed, today=today,
                               cap=ImportRun.MAX_STORED_ERRORS)
        run.format_detected = result.format
        run.rows = result.rows
        run.marks = result.marks
        run.rejected = result.rejected
        run.errors = result.issues.ordered_errors
        run.error_count = result.issues.error_count
        run.warnings = result.issues.warnings
        run.legacy_code_mappings = result.legacy
        has_errors = result.issues.error_count > 0
        nothing_valid = result.finished.rows == 0 and (
            result.summaries is None or result.summaries.empty)
        if result.file_rejected or (has_errors and run.mode == ImportRun.Mode.ALL_OR_NOTHING) \
                or (has_errors and nothing_valid):
            run.status = ImportRun.Status.REJECTED
            run.message = _message_rejected(run, result)
        else:
            counts = _load(run, result)
            run.inserted, run.updated, run.unchanged = (counts.inserted, counts.updated,
                                                        counts.unchanged)
            run.status = ImportRun.Status.APPLIED
            run.message = _message_applied(run, result, counts)
    except Exception as exc:
        logger.exception("Register import %s failed", run_id)
        run.status = ImportRun.Status.FAILED
        run.inserted = run.updated = run.unchanged = 0
        run.message = (f"The import failed ({exc.__class__.__name__}) and nothing was written. "
                       "Try again; if it fails again, tell the LA data team the import number "
                       f"{run.pk}.")
    run.finished_at = timezone.now()
    run.duration = timedelta(seconds=time.monotonic() - started)
    run.save()
    if run.status == ImportRun.Status.APPLIED and run.inserted + run.updated:
        # The hook after a successful import (issue 5). The marks are committed by now: a task
        # queue that cannot be reached must not turn this import into a failure.
        try:
            school_summaries_refresh(school_ids=result.school_ids,
                                     as_of=_last_day(result, today))
        except Exception:
            logger.warning("Import %s: could not queue the summaries refresh", run_id,
                           exc_info=True)
            run.message += (" The pupils' bands will be refreshed by the nightly job (the task "
                            "queue could not be reached).")
            run.save(update_fields=["message"])
    return run


def school_summaries_refresh(*, school_ids: list[int], as_of: date) -> None:
    """Reclassify these schools' pupils now (summaries, bands, alerts: issue 5's nightly work),
    through the worker once the current transaction commits."""
    from attendance.tasks import reclassify_schools

    ids = [int(i) for i in school_ids]
    transaction.on_commit(lambda: reclassify_schools.delay(ids, as_of.isoformat()))


def _last_day(result, today: date) -> date:
    """The last date the file held (never after today), so a late upload of last year is
    classified in last year."""
    from attendance.importers.formats import EPOCH

    last_days = []
    if result.finished.rows:
        last_days.append(EPOCH + timedelta(days=int(result.finished.day.max())))
    if result.summaries is not None and not result.summaries.empty:
        last_days.append(EPOCH + timedelta(days=int(result.summaries.date_to.max())))
    return min([today, *last_days])


def _load(run: ImportRun, result) -> LoadCounts:
    from schools.models import School

    fm = result.finished
    counts = LoadCounts()
    with transaction.atomic():
        if fm.rows:
            counts += marks_load(pupil_id=fm.pupil_id, school_id=fm.school_id, day=fm.day,
                                 am=fm.am, pm=fm.pm, codes=fm.codes)
        if result.summaries is not None and not result.summaries.empty:
            counts += _summaries_load(run, result.summaries)
        run.school_urns = list(School.objects.filter(id__in=result.school_ids)
                               .order_by("urn").values_list("urn", flat=True))
        # Write the outcome in the same transaction as the marks: both land, or neither.
        run.save()
    return counts


def _summaries_load(run: ImportRun, frame) -> LoadCounts:
    """Summary rows: the same COPY-into-staging + one upsert, counted in records."""
    from django.db import connection

    from attendance.importers.formats import EPOCH

    with connection.cursor() as cursor:
        schools_lock(cursor, frame.school_id.unique())
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS attendance_summary_stage (pupil_id bigint, "
            "school_id bigint, date_from int, date_to int, possible int, attended int, "
            "authorised int, unauthorised int) ON COMMIT DROP")
        cursor.execute("TRUNCATE attendance_summary_stage")
        cols = ["pupil_id", "school_id", "date_from", "date_to", "possible", "attended",
                "authorised", "unauthorised"]
        with cursor.cursor.copy(f"COPY attendance_summary_stage ({', '.join(cols)}) "
                                "FROM STDIN") as copy:
            for rec in frame[cols].itertuples(index=False):
                copy.write_row(tuple(int(v) for v in rec))
        cursor.execute("""
            WITH src AS MATERIALIZED (
                SELECT s.pupil_id, s.school_id, %(epoch)s::date + s.date_from AS date_from,
                       %(epoch)s::date + s.date_to AS date_to, s.possible, s.attended,
                       s.authorised, s.unauthorised, r.id IS NOT NULL AS existed,
                       (r.possible, r.attended, r.authorised, r.unauthorised)
                         IS NOT DISTINCT FROM
                       (s.possible, s.attended, s.authorised, s.unauthorised) AS same
                FROM attendance_summary_stage s
                LEFT JOIN attendance_summaryrecord r
                  ON r.pupil_id = s.pupil_id AND r.school_id = s.school_id
                 AND r.date_from = %(epoch)s::date + s.date_from
                 AND r.date_to = %(epoch)s::date + s.date_to
            ), written AS (
                INSERT INTO attendance_summaryrecord AS t (pupil_id, school_id, date_from,
                    date_to, possible, attended, authorised, unauthorised, import_run_id)
                SELECT pupil_id, school_id, date_from, date_to, possible, attended,
                       authorised, unauthorised, %(run)s FROM src WHERE NOT same
                ON CONFLICT (pupil_id, school_id, date_from, date_to) DO UPDATE
                   SET possible = EXCLUDED.possible, attended = EXCLUDED.attended,
                       authorised = EXCLUDED.authorised, unauthorised = EXCLUDED.unauthorised,
                       import_run_id = EXCLUDED.import_run_id
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM written), count(*) FILTER (WHERE NOT existed),
                   count(*) FILTER (WHERE existed AND NOT same), count(*) FILTER (WHERE same)
            FROM src""", {"epoch": EPOCH, "run": run.pk})
        written, inserted, updated, unchanged = cursor.fetchone()
    return LoadCounts(rows_written=written, inserted=inserted, updated=updated,
                      unchanged=unchanged)


def _allowed_school_ids(user) -> set[int] | None:
    """None: every school (no user, e.g. the command, or a user who sees everything)."""
    if user is None or getattr(user, "sees_everything", False):
        return None
    from schools.selectors import school_list

    return set(school_list(user=user).values_list("id", flat=True))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _message_rejected(run: ImportRun, result) -> str:
    if result.file_rejected:
        return "The file was not imported: " + (run.errors[0]["message"] if run.errors else "")
    return (f"The file was not imported: {_plural(run.error_count, 'error')} found in "
            f"{_plural(run.marks, 'mark')}. Nothing was written. Correct the rows listed and "
            "upload the file again, or choose 'apply valid rows' to import the rest.")


def _message_applied(run: ImportRun, result, counts: LoadCounts) -> str:
    unit = "record" if result.format == "summary" else "mark"
    if counts.rows_written == 0 and not run.rejected:
        text = (f"No changes: all {_plural(counts.unchanged, unit)} in the file were already "
                "held exactly as given, so nothing was written.")
    else:
        text = (f"Imported: {_plural(counts.inserted, 'new ' + unit)}, "
                f"{_plural(counts.updated, unit)} changed, {counts.unchanged:,} unchanged.")
    if run.rejected:
        text += (f" Not imported: {_plural(run.rejected, 'rejected ' + unit)} "
                 f"({_plural(run.error_count, 'error')}), listed below.")
    for note in result.notes:
        text += " " + note
    if result.legacy:
        text += (" Pre-2024 codes were read by the documented legacy mapping: "
                 + ", ".join(f"{m['code']} ({m['academic_year']}, {m['marks']})"
                             for m in result.legacy) + ".")
    previous = (ImportRun.objects.filter(sha256=run.sha256, status=ImportRun.Status.APPLIED)
                .exclude(pk=run.pk).order_by("-finished_at").first())
    if previous:
        text += (f" This exact file was applied before (import {previous.pk}, "
                 f"{timezone.localtime(previous.finished_at):%d/%m/%Y %H:%M}).")
    return text
