"""The small city of test_city_dashboard, shared by the schools table and school report tests."""

from tests.reports.test_city_dashboard import small_city  # noqa: F401  (fixture)
