"""Loading: all-or-nothing vs apply-valid, idempotence, partial sessions, rollback, the task."""

import io
from pathlib import Path

import pytest

from attendance import loading
from attendance.models import ImportRun, SessionMark
from attendance.services import register_import_claim, register_import_create
from tests.attendance.imports_support import *  # noqa: F403 (fixtures)
from tests.attendance.imports_support import THU, WED, long_csv, marks_of, run_import, write


def test_it_writes_nothing_when_any_row_is_wrong_by_default(tmp_path, school, roll):
    a, b, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "/", "??")])
    run = run_import(write(tmp_path, "r.csv", text), school=school)
    assert run.status == "rejected"
    assert (run.marks, run.rejected, run.inserted) == (4, 1, 0)
    assert SessionMark.objects.count() == 0
    assert "Nothing was written" in run.message


def test_it_applies_the_valid_marks_and_lists_the_rest_in_apply_valid_mode(tmp_path, school,
                                                                          roll):
    a, b, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "/", "??")])
    run = run_import(write(tmp_path, "r.csv", text), school=school, mode="apply_valid")
    assert run.status == "applied"
    assert (run.marks, run.inserted, run.rejected, run.error_count) == (4, 3, 1, 1)
    assert marks_of(a) == {WED: ("/", "\\")}
    assert marks_of(b) == {WED: ("/", None)}
    assert run.errors[0]["line"] == 3 and run.errors[0]["column"] == "PM"


def test_it_rejects_in_apply_valid_mode_when_nothing_is_valid(tmp_path, school, roll):
    a, _, _ = roll
    run = run_import(write(tmp_path, "r.csv", long_csv([(a.upn, WED, "??", "??")])),
                     school=school, mode="apply_valid")
    assert run.status == "rejected"


def _rows_where_stored():
    """Every mark row with its physical location (ctid): a row deleted and inserted again, or
    rewritten by an UPDATE, moves."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pupil_id, date, school_id, am, pm, ctid::text "
                       "FROM attendance_sessionmark ORDER BY pupil_id, date, school_id")
        return cursor.fetchall()


def test_it_writes_nothing_when_the_same_file_is_imported_again(tmp_path, school, roll):
    a, b, c = roll
    text = long_csv([(p.upn, day, "/", "\\") for p in roll for day in (WED, THU)])
    first = run_import(write(tmp_path, "r.csv", text), school=school)
    before = _rows_where_stored()
    again = run_import(write(tmp_path, "r.csv", text), school=school)
    assert (first.inserted, first.updated, first.unchanged) == (12, 0, 0)
    assert (again.status, again.inserted, again.updated, again.unchanged) == ("applied", 0, 0, 12)
    assert again.message.startswith("No changes: all 12 marks in the file were already held")
    assert f"applied before (import {first.pk}" in again.message
    assert _rows_where_stored() == before  # same rows, same codes, same place on disk


def test_it_proves_no_row_is_rewritten_on_reimport(tmp_path, school, roll):
    from django.db import connection

    a, _, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\")])
    run_import(write(tmp_path, "r.csv", text), school=school)
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM attendance_sessionmark")
        before = cursor.fetchall()
        run_import(write(tmp_path, "r.csv", text), school=school)
        cursor.execute("SELECT xmin::text FROM attendance_sessionmark")
        assert cursor.fetchall() == before


def test_it_counts_changed_marks_and_keeps_sessions_the_file_leaves_blank(tmp_path, school,
                                                                         roll):
    a, b, _ = roll
    run_import(write(tmp_path, "1.csv", long_csv([(a.upn, WED, "N", "N"),
                                                  (b.upn, WED, "/", "\\")])), school=school)
    run = run_import(write(tmp_path, "2.csv", long_csv([(a.upn, WED, "I", ""),
                                                        (b.upn, WED, "/", "\\"),
                                                        (b.upn, THU, "/", "")])),
                     school=school)
    assert (run.inserted, run.updated, run.unchanged) == (1, 1, 2)
    assert marks_of(a) == {WED: ("I", "N")}
    assert marks_of(b) == {WED: ("/", "\\"), THU: ("/", None)}


@pytest.mark.parametrize("plain_first_insert", [True, False], ids=["copy", "upsert"])
def test_it_leaves_nothing_when_the_database_fails_after_the_copy(tmp_path, school, roll,
                                                                  monkeypatch, plain_first_insert):
    a, b, _ = roll
    monkeypatch.setattr(loading, "FRESH_PLAIN_INSERT", plain_first_insert)
    real_write = loading.marks_write
    seen = {}

    def write_then_fail(cursor, **kwargs):
        counts = real_write(cursor, **kwargs)
        cursor.execute("SELECT count(*) FROM attendance_sessionmark")
        seen["rows_inside"] = cursor.fetchone()[0]
        cursor.execute("SELECT 1 / 0")  # a real error from PostgreSQL, mid-transaction
        return counts

    monkeypatch.setattr(loading, "marks_write", write_then_fail)
    text = long_csv([(a.upn, WED, "/", "\\"), (b.upn, WED, "/", "\\")])
    run = run_import(write(tmp_path, "r.csv", text), school=school)
    assert seen["rows_inside"] == 2  # the upsert had written, inside the transaction
    assert run.status == "failed"
    assert "nothing was written" in run.message
    assert (run.inserted, run.updated, run.unchanged) == (0, 0, 0)
    assert SessionMark.objects.count() == 0
    assert ImportRun.objects.get(pk=run.pk).status == "failed"


def test_it_stores_the_file_under_its_sha256(tmp_path, school, roll, settings):
    import hashlib

    a, _, _ = roll
    data = long_csv([(a.upn, WED, "/", "\\")]).encode()
    run = register_import_create(file=io.BytesIO(data), filename="../../etc/reg.csv",
                                 school=school, user=None, enqueue=False)
    sha = hashlib.sha256(data).hexdigest()
    assert run.sha256 == sha and run.original_filename == "reg.csv"
    assert Path(run.stored_path) == Path(settings.MEDIA_ROOT) / "imports" / sha
    assert Path(run.stored_path).read_bytes() == data


def test_it_runs_the_task_after_commit_and_only_once(tmp_path, school, roll, school_lead,
                                                     django_capture_on_commit_callbacks):
    from attendance.tasks import register_import_task

    a, _, _ = roll
    data = long_csv([(a.upn, WED, "/", "\\")]).encode()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run = register_import_create(file=io.BytesIO(data), filename="r.csv", school=school,
                                     user=school_lead)
        assert SessionMark.objects.count() == 0  # nothing runs before the commit
    # the import, the reclassification it queues, then that per-school run's term summaries
    # refresh (reports.apps)
    assert len(callbacks) == 3
    run.refresh_from_db()
    assert run.status == "applied" and run.inserted == 2
    assert register_import_task(run.pk) == "not pending"  # a second delivery does nothing
    assert not register_import_claim(run_id=run.pk)


def test_it_refuses_to_apply_a_run_nobody_claimed(tmp_path, school, roll):
    from attendance.services import register_import_apply
    from attendance_portal.errors import ApplicationError

    a, _, _ = roll
    run = register_import_create(file=io.BytesIO(b"UPN,Date,AM,PM\n"), filename="r.csv",
                                 school=school, user=None, enqueue=False)
    with pytest.raises(ApplicationError):
        register_import_apply(run_id=run.pk)



@pytest.mark.parametrize("plain_first_insert", [True, False])
def test_it_counts_the_same_through_either_first_load_statement(tmp_path, school, roll,
                                                                 monkeypatch, plain_first_insert):
    monkeypatch.setattr(loading, "FRESH_PLAIN_INSERT", plain_first_insert)
    text = long_csv([(p.upn, day, "/", "\\") for p in roll for day in (WED, THU)])
    run = run_import(write(tmp_path, "r.csv", text), school=school)
    assert (run.inserted, run.updated, run.unchanged) == (12, 0, 0)
    assert SessionMark.objects.count() == 6


def test_it_refuses_marks_for_a_pupil_that_does_not_exist(school, year):
    import numpy as np
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        loading.marks_load(pupil_id=np.array([987654321]), school_id=np.array([school.pk]),
                           day=np.array([9377], dtype=np.int32), am=np.array([1], dtype=np.uint8),
                           pm=np.array([0], dtype=np.uint8), codes=["", "/"])
    assert SessionMark.objects.count() == 0


def test_it_refreshes_the_schools_summaries_after_a_successful_import(tmp_path, school, roll,
                                                                      monkeypatch):
    from attendance import services

    calls = []
    monkeypatch.setattr(services, "school_summaries_refresh",
                        lambda **kwargs: calls.append(kwargs))
    a, _, _ = roll
    text = long_csv([(a.upn, WED, "/", "\\"), (a.upn, THU, "I", "I")])
    run_import(write(tmp_path, "r.csv", text), school=school)
    assert calls == [{"school_ids": [school.pk], "as_of": THU}]
    run_import(write(tmp_path, "r.csv", text), school=school)  # nothing changed: no refresh
    assert len(calls) == 1


def test_it_keeps_an_applied_import_applied_when_the_queue_is_down(tmp_path, school, roll,
                                                                  monkeypatch):
    from attendance import services

    def broker_down(**kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(services, "school_summaries_refresh", broker_down)
    a, _, _ = roll
    run = run_import(write(tmp_path, "r.csv", long_csv([(a.upn, WED, "/", "\\")])), school=school)
    run.refresh_from_db()
    assert run.status == "applied" and run.inserted == 2
    assert "refreshed by the nightly job" in run.message
    assert SessionMark.objects.count() == 1


@pytest.mark.parametrize("plain_first_insert", [True, False], ids=["copy", "upsert"])
def test_it_writes_codes_of_every_length_and_blank_sessions_exactly(school, roll, year,
                                                                    monkeypatch,
                                                                    plain_first_insert):
    """Rows whose codes are NULL, one and two characters long side by side in one COPY."""
    import numpy as np
    from django.db import transaction

    monkeypatch.setattr(loading, "FRESH_PLAIN_INSERT", plain_first_insert)
    a, b, c = roll
    days = [(WED.toordinal() - loading.EPOCH.toordinal()) + i for i in range(2)]
    rows = [(a, 0, 0, 1), (a, 1, 1, 2), (b, 0, 2, 0), (b, 1, 2, 2), (c, 0, 3, 1)]
    with transaction.atomic():
        counts = loading.marks_load(
            pupil_id=np.array([p.pk for p, *_ in rows], dtype=np.int64),
            school_id=np.full(len(rows), school.pk, dtype=np.int64),
            day=np.array([days[i] for _, i, _, _ in rows], dtype=np.int32),
            am=np.array([am for *_, am, _ in rows], dtype=np.uint8),
            pm=np.array([pm for *_, pm in rows], dtype=np.uint8),
            codes=["", "/", "Y1", "\\"])
    assert (counts.rows_written, counts.inserted) == (5, 8)
    assert marks_of(a) == {WED: (None, "/"), THU: ("/", "Y1")}
    assert marks_of(b) == {WED: ("Y1", None), THU: ("Y1", "Y1")}
    assert marks_of(c) == {WED: ("\\", "/")}
