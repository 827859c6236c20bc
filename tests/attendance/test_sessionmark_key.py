"""SessionMark's primary key is its natural key (pupil, date, school): the migration that swaps
the surrogate id for it keeps every row, and the key keeps a pupil to one row per school a day."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from attendance.models import SessionMark
from tests.factories import EnrolmentFactory, PupilFactory, SchoolFactory

MIGRATION = ("attendance", "0007_sessionmark_natural_pk")
WED, THU = date(2025, 9, 3), date(2025, 9, 4)


def _key_and_columns():
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT array_agg(a.attname ORDER BY k.n)
            FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = 'attendance_sessionmark'::regclass AND i.indisprimary""")
        key = cursor.fetchone()[0]
        cursor.execute("SELECT array_agg(attname::text ORDER BY attname) FROM pg_attribute "
                       "WHERE attrelid = 'attendance_sessionmark'::regclass AND attnum > 0 "
                       "AND NOT attisdropped")
        return key, cursor.fetchone()[0]


def _rows():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pupil_id, date, school_id, am, pm FROM attendance_sessionmark "
                       "ORDER BY pupil_id, date, school_id")
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_mark_and_makes_the_natural_key_primary():
    executor = MigrationExecutor(connection)
    parents = sorted(executor.loader.graph.node_map[MIGRATION].parents)
    pupils = [PupilFactory(), PupilFactory()]
    schools = [SchoolFactory(urn="113601"), SchoolFactory(urn="113602")]
    try:
        executor.migrate([p.key for p in parents])
        key, columns = _key_and_columns()
        assert key == ["id"] and "id" in columns  # the old shape, with marks written into it
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO attendance_sessionmark (pupil_id, school_id, date, am, pm) "
                "VALUES (%s, %s, %s, %s, %s)",
                [(pupils[0].pk, schools[0].pk, WED, "/", "\\"),
                 (pupils[0].pk, schools[0].pk, THU, "I", None),
                 (pupils[0].pk, schools[1].pk, WED, None, "B"),
                 (pupils[1].pk, schools[0].pk, WED, "N", "N")])
        before = _rows()

        executor = MigrationExecutor(connection)
        executor.migrate([MIGRATION])
        key, columns = _key_and_columns()
        assert key == ["pupil_id", "date", "school_id"]
        assert columns == ["am", "date", "pm", "pupil_id", "school_id"]
        assert _rows() == before
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_index "
                           "WHERE indrelid = 'attendance_sessionmark'::regclass")
            assert cursor.fetchone()[0] == 2  # the key and (school, date): no leftover index

        executor = MigrationExecutor(connection)
        executor.migrate([p.key for p in parents])  # and back again
        assert _key_and_columns()[0] == ["id"]
        assert _rows() == before
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert _key_and_columns()[0] == ["pupil_id", "date", "school_id"]


@pytest.mark.django_db
def test_a_pupil_has_one_mark_row_per_school_a_day():
    pupil, school = PupilFactory(), SchoolFactory(urn="113603")
    EnrolmentFactory(pupil=pupil, school=school, start_date=date(2020, 9, 1))
    mark = SessionMark.objects.create(pupil=pupil, school=school, date=WED, am="/", pm="\\")
    assert mark.pk == (pupil.pk, WED, school.pk)
    assert SessionMark.objects.get(pk=(pupil.pk, WED, school.pk)).pm == "\\"
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionMark.objects.bulk_create(
            [SessionMark(pupil=pupil, school=school, date=WED, am="N", pm="N")])
    other = SchoolFactory(urn="113604")
    SessionMark.objects.create(pupil=pupil, school=other, date=WED, am="D")  # dual registration
    SessionMark.objects.filter(pupil=pupil, school=other).update(am="B")
    assert sorted(SessionMark.objects.values_list("school_id", "am")) == sorted(
        [(school.pk, "/"), (other.pk, "B")])
