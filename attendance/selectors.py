"""Reads of attendance figures. Pages and the API pass the requesting user; the LA data team's
export runs as the system and sees everything."""

from collections.abc import Iterator
from datetime import date

from attendance.bands import Band, rate_text
from attendance.summary_models import BandHistory, PupilSummary
from pupils.selectors import pupil_get
from schools.models import AcademicYear, School


def band_export_rows(*, as_of: date, school_urn: str | None = None) -> Iterator[tuple]:
    """Per pupil and school: figures and bands for the academic year containing as_of."""
    year = AcademicYear.start_year_for(as_of)
    summaries = PupilSummary.objects.filter(academic_year=year, school__isnull=False)
    if school_urn:
        if not School.objects.filter(urn=school_urn).exists():
            raise LookupError(f"No school with URN {school_urn}.")
        summaries = summaries.filter(school__urn=school_urn)
    for s in summaries.order_by("school__urn", "pupil__upn").values_list(
        "pupil__upn", "school__urn", "academic_year", "as_of", "possible", "attended",
        "authorised", "unauthorised", "band", "recent_band", "projected_band",
    ).iterator(chunk_size=5000):
        upn, urn, ay, day, possible, attended, auth, unauth, band, recent, projected = s
        rate = rate_text(attended=attended, possible=possible, percent_sign=False)
        yield (upn, urn, ay, day.isoformat(), possible, attended, auth, unauth, rate,
               band or "", recent or "", projected or "")


def pupil_attendance(*, user, upn: str, as_of: date) -> dict:
    """A visible pupil's summaries (city-wide and per school) and band history for the year."""
    pupil = pupil_get(user=user, upn=upn)
    year = AcademicYear.start_year_for(as_of)
    summaries = list(
        PupilSummary.objects.filter(pupil=pupil, academic_year=year).select_related("school")
        .order_by("school_id")
    )
    return {
        "pupil": pupil,
        "city": next((s for s in summaries if s.school_id is None), None),
        "by_school": [s for s in summaries if s.school_id is not None],
        "history": list(BandHistory.objects.filter(pupil=pupil, academic_year=year)
                        .order_by("changed_on")),
    }


def import_run_list(*, user):
    """Register imports the user may see: those for schools they can see, and their own uploads.

    Administrators and managers see every run (including multi-school runs, which have no one
    school); everyone else sees runs for their schools (school_list) and the runs they started.
    """
    from django.db.models import Q

    from attendance.models import ImportRun
    from schools.selectors import school_list

    if not user.is_authenticated or not user.is_active:
        return ImportRun.objects.none()
    runs = ImportRun.objects.select_related("school", "user")
    if user.sees_everything:
        return runs
    return runs.filter(Q(school__in=school_list(user=user)) | Q(user=user))


def import_run_get(*, user, run_id: int):
    """One run the user may see; Http404 otherwise (never 403)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(import_run_list(user=user), pk=run_id)


def user_can_import_registers(*, user) -> bool:
    """Who may upload register exports: administrators, LA officers (for their linked schools)
    and school attendance leads (for their own school). Managers work in aggregate and social
    workers see pupils, not registers: neither imports."""
    return bool(user.is_authenticated and user.is_active and (
        user.is_superuser or user.is_administrator or user.is_la_officer or user.is_school_lead))


# --- Pupil, caseload and school pages (issue 5) ------------------------------------------------
# Pages read the nightly summaries (PupilSummary, BandHistory) and, for one pupil, that pupil's
# own marks; never marks across many pupils, except the last few school days of one page of a
# caseload.

# Register categories as the heat map colours them.
CALENDAR_CATEGORIES = [
    ("present", "Present or approved educational activity"),
    ("authorised", "Authorised absence"),
    ("unauthorised", "Unauthorised absence"),
    ("not_possible", "Not a possible session (for example D, X, Y, Z, #)"),
    ("none", "No mark received"),
]
_CATEGORY_LABELS = dict(CALENDAR_CATEGORIES)
_CSS_CATEGORY = {
    "present": "present", "approved_activity": "present", "authorised": "authorised",
    "unauthorised": "unauthorised", "not_possible": "not_possible",
}


def current_academic_year(today: date | None = None) -> int:
    from django.utils import timezone

    return AcademicYear.start_year_for(today or timezone.localdate())


def _code_categories() -> dict[str, str]:
    """Register code -> heat-map category (the codes table is ~50 rows)."""
    from attendance.models import AttendanceCode

    return {code: _CSS_CATEGORY.get(category, "not_possible")
            for code, category in AttendanceCode.objects.values_list("code", "category")}


def _merge_session(held: str | None, new: str | None, categories: dict[str, str]) -> str | None:
    """One code per session when a dual-registered pupil has rows at two schools for a day: a
    possible session (the school the child was at) wins over D/X/Z-style codes."""
    if held is None:
        return new
    if new is None:
        return held
    if categories.get(held) == "not_possible" and categories.get(new) != "not_possible":
        return new
    return held


def _pupil_day_marks(pupil_ids, start: date, end: date, categories) -> dict:
    """{(pupil_id, date): (am, pm)} over the pupils' rows at every school."""
    from attendance.models import SessionMark

    days: dict = {}
    rows = SessionMark.objects.filter(pupil_id__in=pupil_ids, date__range=(start, end))
    for pupil_id, day, am, pm in rows.values_list("pupil_id", "date", "am", "pm"):
        held = days.get((pupil_id, day), (None, None))
        days[(pupil_id, day)] = (_merge_session(held[0], am, categories),
                                 _merge_session(held[1], pm, categories))
    return days


def _session(code: str | None, categories: dict[str, str]) -> dict:
    category = categories.get(code, "not_possible") if code else "none"
    return {"code": code or "", "category": category, "label": _CATEGORY_LABELS[category]}


def pupil_register_calendar(*, user, upn: str, academic_year: int,
                            today: date | None = None) -> dict:
    """The pupil's register for the academic year as month grids of school weeks (Mon–Fri).

    Each weekday is a cell with the AM and PM code and its category (present, authorised,
    unauthorised, not_possible, none); ``school_day`` says whether the LA calendar has school
    that day, ``future`` whether it is after today. Reads only this pupil's marks (the unique
    index on pupil, date, school serves it). Http404 for a pupil outside the user's scope.
    """
    import calendar as calendar_module
    from datetime import timedelta

    from django.utils import timezone

    from schools.calendar import school_days

    pupil = pupil_get(user=user, upn=upn)
    today = today or timezone.localdate()
    start, end = date(academic_year, 9, 1), date(academic_year + 1, 8, 31)
    last = min(end, today)
    categories = _code_categories()
    marks = _pupil_day_marks([pupil.pk], start, last, categories) if last >= start else {}
    in_school = set(school_days(start=start, end=end))
    counts = dict.fromkeys(_CATEGORY_LABELS, 0)
    months = []
    month_start = start
    while month_start <= end and month_start <= last:
        weeks = []
        for week in calendar_module.Calendar().monthdatescalendar(month_start.year,
                                                                  month_start.month):
            cells = []
            for day in week[:5]:
                if day.month != month_start.month:
                    cells.append(None)
                    continue
                am, pm = marks.get((pupil.pk, day), (None, None))
                school_day = day in in_school
                future = day > last
                cell = {"date": day, "school_day": school_day, "future": future,
                        "marked": am is not None or pm is not None}
                if cell["marked"] or (school_day and not future):
                    cell["am"], cell["pm"] = _session(am, categories), _session(pm, categories)
                    counts[cell["am"]["category"]] += 1
                    counts[cell["pm"]["category"]] += 1
                cells.append(cell)
            if any(cells):
                weeks.append(cells)
        months.append({"start": month_start, "weeks": weeks})
        month_start = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return {
        "pupil": pupil,
        "academic_year": academic_year,
        "start": start,
        "last": last,
        "months": months,
        "key": [{"category": c, "label": label, "sessions": counts[c]}
                for c, label in CALENDAR_CATEGORIES],
        "has_marks": bool(marks),
    }


def pupil_band_history(*, user, upn: str, academic_year: int | None = None) -> list[BandHistory]:
    """The pupil's band changes (city-wide band), newest first; one academic year or all."""
    pupil = pupil_get(user=user, upn=upn)
    rows = BandHistory.objects.filter(pupil=pupil)
    if academic_year is not None:
        rows = rows.filter(academic_year=academic_year)
    return list(rows.order_by("-changed_on"))


def pupil_open_alerts(*, user, upn: str):
    """Alerts about this pupil the user may see (alerts.selectors.alert_list) and nobody has
    acknowledged yet, newest first."""
    from alerts.selectors import alert_list

    pupil = pupil_get(user=user, upn=upn)
    return list(alert_list(user=user).filter(pupil=pupil, acknowledged_at__isnull=True)
                .order_by("-created_at", "-pk"))


def pupil_table_with_attendance(*, user, school=None, band: int | None = None,
                                academic_year: int | None = None, today: date | None = None):
    """``pupils.selectors.pupil_table`` with this year's figures from the nightly summary:
    ``att_possible``, ``att_attended``, ``att_rate`` (0–100), ``att_band``, ``att_recent_band``,
    ``att_projected_band``. With a school: that school's summary (pupils on its roll today);
    otherwise the city-wide one. ``band`` keeps pupils in that band (1–5)."""
    from django.db.models import F, FilteredRelation, FloatField, Q
    from django.db.models.functions import Cast, NullIf

    from pupils.selectors import pupil_table

    year = academic_year or current_academic_year(today)
    pupils = pupil_table(user=user, school=school, today=today)
    condition = Q(summaries__academic_year=year)
    condition &= Q(summaries__school=school) if school is not None else Q(
        summaries__school__isnull=True)
    pupils = pupils.annotate(
        att=FilteredRelation("summaries", condition=condition),
    ).annotate(
        att_possible=F("att__possible"),
        att_attended=F("att__attended"),
        att_rate=100.0 * Cast(F("att__attended"), FloatField())
        / NullIf(Cast(F("att__possible"), FloatField()), 0.0),
        att_band=F("att__band"),
        att_recent_band=F("att__recent_band"),
        att_projected_band=F("att__projected_band"),
    )
    if band is not None:
        pupils = pupils.filter(att_band=band)
    return pupils


def caseload_table(*, user, today: date | None = None, academic_year: int | None = None):
    """The social worker's own caseload today (pupils allocated to them, within pupil_list),
    with city-wide figures and bands, CIN/CP/CLA flags from the latest census snapshot and the
    number of open alerts the user may see about each pupil. Empty for anyone else."""
    from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    from alerts.models import Alert
    from alerts.selectors import alert_list
    from pupils.models import Characteristics
    from pupils.selectors import caseload_allocations

    today = today or timezone.localdate()
    pupils = pupil_table_with_attendance(user=user, today=today, academic_year=academic_year)
    if not user.is_authenticated or not user.is_social_worker:
        return pupils.none()
    allocated = caseload_allocations(user=user, today=today).filter(pupil=OuterRef("pk"))
    snapshot = Characteristics.objects.filter(
        pupil=OuterRef("pk"), effective_date__lte=today).order_by("-effective_date")
    visible_open = alert_list(user=user).filter(acknowledged_at__isnull=True).values("pk")
    open_alerts = (Alert.objects.filter(pk__in=visible_open, pupil=OuterRef("pk")).order_by()
                   .values("pupil").annotate(n=Count("pk")).values("n"))
    return pupils.filter(Exists(allocated)).annotate(
        cin=Subquery(snapshot.values("cin")[:1]),
        cp=Subquery(snapshot.values("cp")[:1]),
        cla=Subquery(snapshot.values("cla")[:1]),
        open_alerts=Coalesce(Subquery(open_alerts, output_field=IntegerField()), 0),
    )


def pupils_latest_marks(*, user, pupil_ids, days: int = 5,
                        today: date | None = None) -> tuple[list[date], dict]:
    """The last ``days`` school days up to today and, for each visible pupil in ``pupil_ids``
    (one page of a list), their AM/PM codes on those days: (dates, {pupil_id: [day, …]}) where a
    day is {"date", "am", "pm"} with the code and category of each session."""
    from datetime import timedelta

    from django.utils import timezone

    from pupils.selectors import pupil_list
    from schools.calendar import school_days

    today = today or timezone.localdate()
    dates = school_days(start=today - timedelta(days=60), end=today)[-days:]
    ids = list(pupil_list(user=user, today=today).filter(pk__in=list(pupil_ids))
               .values_list("pk", flat=True))
    if not dates or not ids:
        return dates, {pk: [] for pk in ids}
    categories = _code_categories()
    marks = _pupil_day_marks(ids, dates[0], dates[-1], categories)
    result = {}
    for pk in ids:
        result[pk] = []
        for day in dates:
            am, pm = marks.get((pk, day), (None, None))
            result[pk].append({"date": day, "am": _session(am, categories),
                               "pm": _session(pm, categories)})
    return dates, result


def school_band_counts(*, user, school, academic_year: int | None = None,
                       today: date | None = None) -> dict:
    """Pupils on ``school``'s roll today (as the user may see them) by their band at that school
    this academic year: rows for bands 1–5 with count and percentage of banded pupils, plus
    pupils with no band yet. ``school`` comes from ``school_get`` (already scoped)."""
    from django.db.models import Count, Max

    from pupils.selectors import pupils_on_roll

    year = academic_year or current_academic_year(today)
    on_roll = pupils_on_roll(user=user, school=school, today=today)
    summaries = PupilSummary.objects.filter(school=school, academic_year=year,
                                            pupil__in=on_roll.values("pk"))
    counts = dict(summaries.order_by().values_list("band").annotate(n=Count("pk")))
    banded = sum(n for band, n in counts.items() if band is not None)
    rows = [{"band": band.value, "name": band.label, "count": counts.get(band.value, 0),
             "percent": (100 * counts.get(band.value, 0) / banded) if banded else None}
            for band in Band]
    total = on_roll.count()
    return {
        "academic_year": year,
        "rows": rows,
        "banded": banded,
        "no_band": counts.get(None, 0),
        "on_roll": total,
        "without_band": max(total - banded, 0),
        "as_of": summaries.aggregate(latest=Max("as_of"))["latest"],
    }
