"""demo_marks_generate on a small demo city: realistic shape, same path as imports, idempotent."""

from datetime import date

import pytest
from django.db import connection

from attendance.demo import demo_marks_generate
from attendance.models import SessionMark


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker):
    """A ~3,000-pupil demo city with a year of marks, built once for the module."""
    from unittest import mock

    from pupils.demo import demo_city_generate, demo_city_reset
    from schools.models import AcademicYear
    from tests.attendance.imports_support import reference_codes_ensure

    with django_db_blocker.unblock(), \
            mock.patch("django.utils.timezone.localdate", return_value=date(2026, 11, 23)):
        demo_city_reset()  # a run stopped half way may have left a city behind
        reference_codes_ensure()
        try:
            demo_city_generate(pupils=3000, seed=7)
            year = AcademicYear.objects.get(start_year=2025)
            written = demo_marks_generate(academic_year=year, seed=7)
            yield {"year": year, "written": written}
        finally:
            # Everything this fixture committed goes, term dates included: later tests build
            # their own years and must not find these.
            from schools.models import ClosureDay

            SessionMark.objects.all().delete()
            demo_city_reset()
            ClosureDay.objects.all().delete()
            AcademicYear.objects.all().delete()


def rates(where: str = "TRUE", group: str = "1") -> dict:
    with connection.cursor() as cursor:
        cursor.execute(f"""
            WITH s AS (
                SELECT {group} AS g, v.code
                FROM attendance_sessionmark m
                JOIN schools_school sc ON sc.id = m.school_id
                LEFT JOIN LATERAL (
                    SELECT DISTINCT ON (c.pupil_id) c.* FROM pupils_characteristics c
                    WHERE c.pupil_id = m.pupil_id ORDER BY c.pupil_id, c.effective_date DESC
                ) ch ON TRUE
                CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) AS v(code)
                WHERE v.code IS NOT NULL AND {where}
            )
            SELECT g, 1 - avg(CASE WHEN ac.counts_as_attended THEN 1.0 ELSE 0 END)
            FROM s JOIN attendance_attendancecode ac ON ac.code = s.code
            WHERE ac.counts_as_possible GROUP BY g""")
        return dict(cursor.fetchall())


@pytest.mark.django_db
def test_it_writes_a_year_of_marks_for_every_enrolled_pupil(city):
    marks = SessionMark.objects.filter(am__isnull=False).count() + \
        SessionMark.objects.filter(pm__isnull=False).count()
    assert city["written"] == marks > 3000 * 150 * 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM attendance_sessionmark "
                       "WHERE extract(isodow FROM date) > 5")
        assert cursor.fetchone()[0] == 0
        cursor.execute("""SELECT count(*) FROM attendance_sessionmark m WHERE NOT EXISTS (
            SELECT 1 FROM pupils_enrolment e WHERE e.pupil_id = m.pupil_id
            AND e.school_id = m.school_id AND e.start_date <= m.date
            AND (e.end_date IS NULL OR e.end_date >= m.date))""")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_it_gives_absence_rates_near_the_plymouth_figures(city):
    by_phase = rates(group="sc.phase")
    assert 0.035 <= by_phase["primary"] <= 0.07
    assert 0.07 <= by_phase["secondary"] <= 0.12
    assert 0.09 <= by_phase["special"] <= 0.20
    by_fsm = rates(group="coalesce(ch.fsm, FALSE)")
    assert 1.6 <= by_fsm[True] / by_fsm[False] <= 2.6
    by_day = rates(group="extract(isodow FROM m.date)::int")
    assert min(by_day[1], by_day[5]) > max(by_day[2], by_day[3], by_day[4])


@pytest.mark.django_db
def test_it_uses_the_codes_schools_use(city):
    with connection.cursor() as cursor:
        cursor.execute("""SELECT v.code, count(*) FROM attendance_sessionmark m
            CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) v(code) WHERE v.code IS NOT NULL
            GROUP BY v.code""")
        used = dict(cursor.fetchall())
    authorised = {c: used.get(c, 0) for c in ("I", "M", "C", "R", "E", "C2", "T")}
    assert max(authorised, key=authorised.get) == "I"
    for code in ("G", "N", "O", "L", "U", "M", "D"):
        assert used.get(code, 0) > 0, code
    assert used["L"] > used["U"]


@pytest.mark.django_db
def test_it_has_a_small_severe_absence_tail(city):
    with connection.cursor() as cursor:
        cursor.execute("""
            WITH p AS (
                SELECT m.pupil_id, sc.phase,
                       count(*) FILTER (WHERE a.counts_as_possible) AS possible,
                       count(*) FILTER (WHERE a.counts_as_attended) AS attended
                FROM attendance_sessionmark m JOIN schools_school sc ON sc.id = m.school_id
                CROSS JOIN LATERAL (VALUES (m.am), (m.pm)) v(code)
                JOIN attendance_attendancecode a ON a.code = v.code
                GROUP BY m.pupil_id, m.school_id, sc.phase)
            SELECT avg(CASE WHEN 2 * attended <= possible THEN 1.0 ELSE 0 END),
                   avg(CASE WHEN 10 * attended <= 9 * possible THEN 1.0 ELSE 0 END)
            FROM p WHERE phase IN ('primary', 'secondary') AND possible > 0""")
        severe, persistent = cursor.fetchone()
    assert 0.002 <= severe <= 0.03
    assert 0.08 <= persistent <= 0.35


@pytest.mark.django_db
def test_it_changes_nothing_when_run_again_with_the_same_seed(city):
    from unittest import mock

    with connection.cursor() as cursor:
        cursor.execute("SELECT md5(string_agg(pupil_id || date::text || coalesce(am, '-') "
                       "|| coalesce(pm, '-'), ',' ORDER BY pupil_id, date, school_id)) "
                       "FROM attendance_sessionmark")
        before = cursor.fetchone()[0]
        one_school = SessionMark.objects.values_list("school_id", flat=True).first()
        with mock.patch("django.utils.timezone.localdate", return_value=date(2026, 11, 23)):
            demo_marks_generate(academic_year=city["year"], seed=7, school_ids=[one_school])
        cursor.execute("SELECT md5(string_agg(pupil_id || date::text || coalesce(am, '-') "
                       "|| coalesce(pm, '-'), ',' ORDER BY pupil_id, date, school_id)) "
                       "FROM attendance_sessionmark")
        assert cursor.fetchone()[0] == before
