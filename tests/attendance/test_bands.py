"""Band boundaries on exact session counts, in Python and in SQL (they must agree)."""

import pytest
from django.db import connection

from attendance.bands import Band, band_for, band_sql

# (attended, possible, expected band): rates written beside each case.
CASES = [
    (380, 380, Band.EXPECTED),  # 100%
    (1900, 2000, Band.EXPECTED),  # 95.00%
    (9499, 10000, Band.AT_RISK_OF_PA),  # 94.99%
    (9001, 10000, Band.AT_RISK_OF_PA),  # 90.01%
    (900, 1000, Band.PERSISTENT_ABSENCE),  # 90.00%: exactly 10% missed is PA
    (342, 380, Band.PERSISTENT_ABSENCE),  # 90.00% of a full year
    (800, 1000, Band.PERSISTENT_ABSENCE),  # 80.00%
    (7999, 10000, Band.AT_RISK_OF_SA),  # 79.99%
    (5001, 10000, Band.AT_RISK_OF_SA),  # 50.01%
    (500, 1000, Band.SEVERE_ABSENCE),  # 50.00%
    (0, 10, Band.SEVERE_ABSENCE),  # 0%
    (1, 1, Band.EXPECTED),
]


@pytest.mark.parametrize(("attended", "possible", "band"), CASES)
def test_it_places_each_boundary_in_the_right_band(attended, possible, band):
    assert band_for(attended=attended, possible=possible) == band


def test_it_gives_no_band_without_possible_sessions():
    assert band_for(attended=0, possible=0) is None


@pytest.mark.django_db
def test_it_agrees_between_python_and_sql():
    rows = [(a, p) for a, p, _ in CASES] + [(0, 0)]
    values = ", ".join(f"({a}, {p})" for a, p in rows)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT a, p, {band_sql('a', 'p')} FROM (VALUES {values}) AS t(a, p)")
        for a, p, band in cursor.fetchall():
            assert band == band_for(attended=a, possible=p), (a, p)


@pytest.mark.parametrize(
    ("attended", "possible", "shown"),
    [(9496, 10000, "94.9%"), (9500, 10000, "95.0%"), (9004, 10000, "90.1%"),
     (900, 1000, "90.0%"), (7996, 10000, "79.9%"), (8000, 10000, "80.0%"),
     (5004, 10000, "50.1%"), (500, 1000, "50.0%"), (2, 3, "66.7%"), (1, 3, "33.3%")],
)
def test_it_never_shows_a_rate_that_contradicts_the_band(attended, possible, shown):
    from attendance.bands import rate_text

    assert rate_text(attended=attended, possible=possible) == shown
