"""Dashboard speed through the real HTTP server (gunicorn, as the launcher runs it); one JSON line.

    PORTAL_DEV=1 PORTAL_DATA_DIR=/tmp/portal-bench .venv/bin/python benchmarks/dashboard.py
        [--pupils 40500] [--requests 50] [--large]

Builds (or reuses) the demo city with its marks and classifies it as the nightly job does, starts
gunicorn (3 workers) on a free port against the same embedded PostgreSQL and Redis, signs in as
a manager (urllib and a cookie jar; CSRF token from the sign-in form), and times ``--requests``
warm requests each of the city dashboard, a school page and a cohort dashboard (after a few
unmeasured warm-up requests). Prints ``city_p95_ms``, ``school_p95_ms``, ``cohort_p95_ms``,
``pupils`` and the machine's ``load_avg``. A school or cohort URL that is not there yet (404) falls
back to the page there is and says so (``school_url``, ``cohort_url``, ``fallbacks``).

``--large``: 200,000 pupils (its own database, ``<PORTAL_DATA_DIR>-large``), the city dashboard
only. Targets (issue 8): ≤ 300 ms p95 each at the demo city; the city ≤ 1 s at 200,000 pupils.
DESTRUCTIVE for a database of another size: ``seed_demo --reset`` rebuilds the city.
"""

import argparse
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-2026"
EMAIL = "bench-manager@bench.test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _classified() -> None:
    """Summaries as the nightly job leaves them (once), and the term summaries after it."""
    from attendance.classification import pupils_reclassify
    from attendance.models import PupilSummary, ReclassificationRun, SessionMark
    from reports.services import term_summaries_refresh
    from schools.models import AcademicYear

    last = SessionMark.objects.order_by("-date").values_list("date", flat=True).first()
    year = AcademicYear.start_year_for(last)
    run = ReclassificationRun.objects.filter(school_ids__isnull=True).order_by("-id").first()
    if run is None or not PupilSummary.objects.filter(academic_year=year).exists():
        pupils_reclassify(as_of=last, notify=False)
    from reports.models import TermSummary

    if not TermSummary.objects.filter(academic_year=year).exists():
        term_summaries_refresh(academic_year=year, as_of=last)


def _manager():
    from accounts.models import User

    user, _ = User.objects.get_or_create(email=EMAIL, defaults={
        "full_name": "Benchmark Manager", "is_manager": True})
    user.is_manager = user.is_active = True
    user.set_password(PASSWORD)
    user.save()
    return user


def _server(port: int) -> subprocess.Popen:
    from django.conf import settings

    env = dict(os.environ, ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING",
               DATABASE_URL=os.environ.get("DATABASE_URL") or _database_url(),
               REDIS_URL=settings.REDIS_URL)
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "attendance_portal.wsgi", "--bind",
         f"127.0.0.1:{port}", "--workers", "3", "--timeout", "120", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _database_url() -> str:
    from attendance_portal import embedded

    return embedded.postgres_url()


class Session:
    """A signed-in browser, standard library only (gunicorn's sync workers close each
    connection anyway, so there is no keep-alive to lose)."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, url: str) -> tuple[int, str]:
        try:
            with self.opener.open(url, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def post(self, url: str, data: dict, referer: str) -> int:
        request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode(),
                                         headers={"Referer": referer})
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def has_cookie(self, name: str) -> bool:
        return any(c.name == name for c in self.cookies)


def _session(base: str) -> Session:
    session = Session()
    deadline = time.monotonic() + 120
    login = f"{base}/accounts/login/"
    while True:
        try:
            _, page = session.get(login)
            break
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    status = session.post(login, {"csrfmiddlewaretoken": token, "username": EMAIL,
                                  "password": PASSWORD}, referer=login)
    if not session.has_cookie("sessionid"):
        raise SystemExit(f"Could not sign in as the benchmark manager ({status})")
    return session


def _p95(session, url: str, n: int, warm: int = 5) -> tuple[float, float]:
    """(p95 ms over n warm requests, first request ms)."""
    timings = []
    for _ in range(warm + n):
        started = time.perf_counter()
        status, _ = session.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise SystemExit(f"{url}: HTTP {status}")
        timings.append(elapsed)
    measured = sorted(timings[warm:])
    return measured[max(0, int(round(0.95 * len(measured))) - 1)], timings[0]


def _reachable(session, url: str) -> bool:
    return session.get(url)[0] == 200


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=40500)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--large", action="store_true", help="200,000 pupils, city only")
    args = parser.parse_args()
    pupils_wanted = 200_000 if args.large else args.pupils
    if args.large:
        base_dir = os.environ.get("PORTAL_DATA_DIR", str(ROOT / ".data" / "bench"))
        os.environ["PORTAL_DATA_DIR"] = base_dir.rstrip("/") + "-large"
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _setup import django_ready, ensure_city

    django_ready("bench-large" if args.large else "bench")
    ensure_city(pupils_wanted)
    _classified()

    from django.db import connection
    from django.db.models import Count

    from attendance.models import PupilSummary
    from pupils.models import Enrolment
    from reports.selectors import dashboard_years

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    year = dashboard_years()[0]
    pupils = PupilSummary.objects.filter(school__isnull=True, academic_year=year,
                                         possible__gt=0).count()
    biggest = (Enrolment.objects.filter(end_date__isnull=True).values("school__urn")
               .annotate(n=Count("id")).order_by("-n").first())
    # Without the cache: the selector itself, in this process (median of 3).
    from reports.selectors import city_dashboard

    user = _manager()
    uncached = []
    for _ in range(3):
        started = time.perf_counter()
        city_dashboard(user=user, academic_year=year, filters={})
        uncached.append((time.perf_counter() - started) * 1000)
    connection.close()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _server(port)
    result = {"pupils": pupils, "academic_year": year, "requests": args.requests,
              "server": "gunicorn, 3 workers",
              "city_selector_uncached_ms": round(sorted(uncached)[1], 1)}
    try:
        session = _session(base)
        city_url = f"{base}/reports/city/?academic_year={year}"
        result["city_p95_ms"], result["city_first_ms"] = (
            round(v, 1) for v in _p95(session, city_url, args.requests))
        if not args.large:
            fallbacks = []
            school_url = f"{base}/reports/schools/{biggest['school__urn']}/"
            if not _reachable(session, school_url):
                school_url = f"{base}/schools/{biggest['school__urn']}/"
                fallbacks.append("school: /reports/schools/<urn>/ not there yet, "
                                 "measured /schools/<urn>/")
            cohort_url = f"{base}/reports/cohorts/cla/"
            if not _reachable(session, cohort_url):
                cohort_url = f"{base}/reports/city/?academic_year={year}&characteristic=cla"
                fallbacks.append("cohort: /reports/cohorts/cla/ not there yet, measured the "
                                 "city dashboard filtered to looked-after children")
            result["school_p95_ms"], result["school_first_ms"] = (
                round(v, 1) for v in _p95(session, school_url, args.requests))
            result["cohort_p95_ms"], result["cohort_first_ms"] = (
                round(v, 1) for v in _p95(session, cohort_url, args.requests))
            result.update(school_url=school_url.removeprefix(base),
                          school_pupils=biggest["n"], cohort_url=cohort_url.removeprefix(base),
                          fallbacks=fallbacks)
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    result["load_avg"] = [round(v, 2) for v in os.getloadavg()]
    result["targets_ms"] = {"city_p95_ms": 1000} if args.large else {
        "city_p95_ms": 300, "school_p95_ms": 300, "cohort_p95_ms": 300}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
