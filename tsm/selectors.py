"""Reads of TSMs, scoped to the requesting user, and the meeting pack built from PupilSummary.

Who sees which meeting: a link officer the meetings of the schools they are linked to, a school
lead their own school's, managers and administrators all; nobody else any. Outside the scope is
a 404 (``meeting_get``), never a 403.
"""

import json
from collections import defaultdict
from datetime import date, datetime

from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import FieldError
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from attendance.bands import Band, rate_tenths
from attendance.models import PupilSummary
from pupils.models import SEN, Sex, YearGroup
from schools.models import Phase, School, Term
from tsm.models import (
    Action,
    ActionStatus,
    MeetingStatus,
    TargetingSupportMeeting,
    TsmRound,
)

PACK_VERSION = 1
PUPIL_LIST_LIMIT = 200  # per list; the pack says how many more there were
COMPARATOR_CACHE_SECONDS = 3600
PACK_CACHE_SECONDS = 26 * 3600  # the key changes every night anyway


# --- scoping ---------------------------------------------------------------------------------

def _meeting_scope(user) -> Q | None:
    """The condition on meetings the user may see; None for everything."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.sees_everything:
        return None
    condition = Q(pk__in=[])
    if user.is_la_officer:
        condition |= Q(school__link_officer=user)
    if user.is_school_lead and user.school_id:
        condition |= Q(school_id=user.school_id)
    return condition


def meeting_list(*, user) -> QuerySet[TargetingSupportMeeting]:
    scope = _meeting_scope(user)
    meetings = TargetingSupportMeeting.objects.all()
    if scope is not None:
        meetings = meetings.filter(scope)
    return meetings.select_related(
        "school", "round", "round__term", "round__term__academic_year", "link_officer",
        "proposed_by", "confirmed_by",
    )


def meeting_get(*, user, pk: int) -> TargetingSupportMeeting:
    """The meeting if the user may see it; Http404 otherwise (never 403)."""
    return get_object_or_404(meeting_list(user=user), pk=pk)


def can_see_coverage(*, user) -> bool:
    return user.is_authenticated and user.is_active and user.sees_everything


def can_open_round(*, user) -> bool:
    return user.is_authenticated and user.is_active and (user.is_manager or user.is_superuser)


def action_list(*, user) -> QuerySet[Action]:
    """Actions of the meetings the user may see, plus any action they own."""
    scope = _meeting_scope(user)
    actions = Action.objects.all()
    if scope is not None:
        meeting_ids = TargetingSupportMeeting.objects.filter(scope).values("pk")
        owned = Q(owner=user) if user.is_authenticated else Q(pk__in=[])
        actions = actions.filter(Q(meeting__in=meeting_ids) | owned)
    return actions.select_related("meeting", "meeting__school", "meeting__round__term", "owner",
                                  "pupil", "carried_from__meeting__round__term")


def action_get(*, user, pk: int) -> Action:
    return get_object_or_404(action_list(user=user), pk=pk)


def actions_for_owner(user) -> QuerySet[Action]:
    """The user's own open actions, soonest due first (the home page list)."""
    if not user.is_authenticated:
        return Action.objects.none()
    return (
        Action.objects.filter(owner=user, status=ActionStatus.OPEN)
        .select_related("meeting", "meeting__school", "meeting__round__term", "pupil")
        .order_by("due_date", "pk")
    )


def current_term(today: date | None = None) -> Term | None:
    """The term containing today, or (in a holiday) the next one, or the last one."""
    today = today or timezone.localdate()
    return (
        Term.objects.filter(end_date__gte=today).order_by("start_date").first()
        or Term.objects.order_by("-start_date").first()
    )


def previous_meeting(*, meeting: TargetingSupportMeeting, held_only: bool = True):
    """The school's meeting before this one (by term), held ones only unless told otherwise."""
    earlier = TargetingSupportMeeting.objects.filter(
        school_id=meeting.school_id, round__term__start_date__lt=meeting.round.term.start_date
    )
    if held_only:
        earlier = earlier.filter(status=MeetingStatus.HELD)
    return earlier.select_related("round__term").order_by("-round__term__start_date").first()


def action_owner_choices(*, meeting: TargetingSupportMeeting) -> QuerySet:
    """Who may own an action of this meeting: its link officer and the school's leads."""
    from accounts.models import User

    return User.objects.filter(is_active=True).filter(
        Q(pk=meeting.school.link_officer_id) | Q(pk=meeting.link_officer_id)
        | Q(is_school_lead=True, school_id=meeting.school_id)
    ).order_by("full_name")


# --- the pack --------------------------------------------------------------------------------

def _pct(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def _figures(by_band: dict[int, tuple[int, int, int]]) -> dict:
    """Band counts and % plus attendance, PA and SA rates from {band: (pupils, attended, poss)}."""
    pupils = sum(n for n, _, _ in by_band.values())
    attended = sum(a for _, a, _ in by_band.values())
    possible = sum(p for _, _, p in by_band.values())
    counts = {band.value: by_band.get(band.value, (0, 0, 0))[0] for band in Band}
    return {
        "pupils": pupils,
        "bands": [{"band": b, "count": n, "pct": _pct(n, pupils)} for b, n in counts.items()],
        "attendance_rate": _pct(attended, possible),
        "pa_rate": _pct(counts[3] + counts[4] + counts[5], pupils),
        "sa_rate": _pct(counts[5], pupils),
    }


def _comparators(*, year: int, phase: str, run: int | None) -> tuple[dict, dict]:
    """The phase's and the city's figures: the same for every school's pack until the next
    classification run, so they are cached under that run's id (never when there is none)."""
    summaries = PupilSummary.objects.filter(academic_year=year)

    def compute():
        return (_band_figures(summaries.filter(school__phase=phase)),
                _band_figures(summaries.filter(school__isnull=True)))

    if run is None:
        return compute()
    return cache.get_or_set(f"tsm:comparators:{run}:{year}:{phase}", compute,
                            timeout=COMPARATOR_CACHE_SECONDS)


def _band_figures(summaries: QuerySet) -> dict:
    rows = (
        summaries.filter(band__isnull=False).order_by().values("band")
        .annotate(n=Count("pk"), a=Sum("attended"), p=Sum("possible"))
    )
    return _figures({row["band"]: (row["n"], row["a"], row["p"]) for row in rows})


_PUPIL_SQL = """
SELECT ps.pupil_id, p.upn, p.surname, p.forename, p.sex, ps.as_of,
       ps.attended, ps.possible, ps.band, ps.recent_band, ps.projected_band,
       c.year_group, c.fsm, c.sen, c.eal, c.ethnicity, c.cin, c.cp, c.cla
FROM attendance_pupilsummary ps
JOIN pupils_pupil p ON p.id = ps.pupil_id
LEFT JOIN LATERAL (
    SELECT year_group, fsm, sen, eal, ethnicity, cin, cp, cla
    FROM pupils_characteristics pc
    WHERE pc.pupil_id = ps.pupil_id AND pc.effective_date <= %(today)s
    ORDER BY pc.effective_date DESC LIMIT 1
) c ON true
WHERE ps.school_id = %(school)s AND ps.academic_year = %(year)s AND ps.possible > 0
"""
_PUPIL_COLUMNS = ["pupil_id", "upn", "surname", "forename", "sex", "as_of", "attended",
                  "possible", "band", "recent_band", "projected_band", "year_group", "fsm", "sen",
                  "eal", "ethnicity", "cin", "cp", "cla"]


def _school_pupils(*, school_id: int, year: int, today: date) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(_PUPIL_SQL, {"school": school_id, "year": year, "today": today})
        return [dict(zip(_PUPIL_COLUMNS, row, strict=True)) for row in cursor.fetchall()]


_YEAR_LABELS = dict(YearGroup.choices)
_SEX_LABELS = dict(Sex.choices)
_SEN_LABELS = dict(SEN.choices)
_SEN_ORDER = {label: i for i, label in enumerate(_SEN_LABELS.values())}
_YEAR_ORDER = {value: i for i, value in enumerate(YearGroup.values)}


def _cohorts(rows: list[dict]) -> list[dict]:
    """Attendance, PA and SA rate per cohort, from the latest characteristics snapshot."""
    from portal_ui.templatetags.portal_ui import ethnicity_label

    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[("All pupils", "All pupils")].append(row)
        groups[("Sex", _SEX_LABELS.get(row["sex"], row["sex"] or "Not recorded"))].append(row)
        if row["year_group"] is None:
            groups[("Characteristics", "No characteristics recorded")].append(row)
            continue
        groups[("Free school meals", "FSM eligible" if row["fsm"] else "Not FSM eligible")
               ].append(row)
        groups[("SEN", _SEN_LABELS.get(row["sen"], row["sen"]))].append(row)
        for flag, label in (("cin", "1 Child in need (CIN)"),
                            ("cp", "2 Child protection plan (CP)"),
                            ("cla", "3 Child looked after (CLA)")):
            if row[flag]:
                groups[("Social care", label)].append(row)
        groups[("Year group", row["year_group"])].append(row)
        groups[("Ethnicity", row["ethnicity"] or "")].append(row)
        groups[("EAL", "English as an additional language" if row["eal"]
                else "English first language")].append(row)
    order = ["All pupils", "Free school meals", "SEN", "Social care", "Year group", "Sex",
             "Ethnicity", "EAL", "Characteristics"]

    def sort_key(item):
        (group, label), _ = item
        if group == "Year group":
            inner = _YEAR_ORDER.get(label, 99)
        elif group == "SEN":
            inner = _SEN_ORDER.get(label, 99)
        else:
            inner = label
        return (order.index(group), str(inner).zfill(3) if isinstance(inner, int) else inner)

    result = []
    for (group, label), members in sorted(groups.items(), key=sort_key):
        n = len(members)
        attended = sum(r["attended"] for r in members)
        possible = sum(r["possible"] for r in members)
        display = label
        if group == "Year group":
            display = _YEAR_LABELS.get(label, label)
        elif group == "Ethnicity":
            display = ethnicity_label(label) or "Not recorded"
        elif group == "Social care":
            display = label[2:]  # ordered CIN, CP, CLA by the digit
        result.append({
            "group": group, "label": display, "pupils": n,
            "attendance_rate": _pct(attended, possible),
            "pa_rate": _pct(sum(1 for r in members if r["band"] >= 3), n),
            "sa_rate": _pct(sum(1 for r in members if r["band"] == 5), n),
        })
    return result


def _flags(row: dict) -> list[str]:
    flags = []
    for key, label in (("cla", "CLA"), ("cp", "CP"), ("cin", "CIN")):
        if row[key]:
            flags.append(label)
    if row["sen"] == "E":
        flags.append("EHCP")
    elif row["sen"] == "K":
        flags.append("SEN support")
    if row["fsm"]:
        flags.append("FSM")
    return flags


def pupil_rate(attended: int, possible: int) -> float | None:
    """A pupil's rate shown beside their band: never contradicting it (see attendance.bands)."""
    tenths = rate_tenths(attended=attended, possible=possible)
    return None if tenths is None else tenths / 10


def _pupil_entry(row: dict, **extra) -> dict:
    return {
        "pupil_id": row["pupil_id"], "upn": row["upn"],
        "name": f"{row['forename']} {row['surname']}",
        "sort_name": f"{row['surname']}, {row['forename']}",
        "year_group": _YEAR_LABELS.get(row["year_group"], "") if row["year_group"] else "",
        "attended": row["attended"], "possible": row["possible"],
        "rate": pupil_rate(row["attended"], row["possible"]),
        "band": row["band"], "recent_band": row["recent_band"],
        "projected_band": row["projected_band"], "flags": _flags(row), **extra,
    }


def _limited(entries: list[dict]) -> dict:
    return {"total": len(entries), "pupils": entries[:PUPIL_LIST_LIMIT]}


def _band_changes(*, school_id: int, pupils: dict[int, dict], year: int, since: date) -> list[dict]:
    """Pupils whose city-wide band now differs from their band on ``since`` (BandHistory).

    A pupil first classified after ``since`` is compared with their first band.
    """
    if not pupils:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT bh.pupil_id, bh.changed_on, bh.from_band, bh.to_band
            FROM attendance_bandhistory bh
            WHERE bh.academic_year = %(year)s AND bh.pupil_id IN (
                SELECT pupil_id FROM attendance_pupilsummary
                WHERE school_id = %(school)s AND academic_year = %(year)s AND possible > 0)
            ORDER BY bh.pupil_id, bh.changed_on
            """,
            {"year": year, "school": school_id},
        )
        history = cursor.fetchall()
    by_pupil: dict[int, list] = defaultdict(list)
    for pupil_id, changed_on, from_band, to_band in history:
        by_pupil[pupil_id].append((changed_on, from_band, to_band))
    changes = []
    for pupil_id, rows in by_pupil.items():
        if pupil_id not in pupils:
            continue
        before = [r for r in rows if r[0] <= since]
        baseline = before[-1][2] if before else rows[0][2]
        baseline_on = before[-1][0] if before else rows[0][0]
        current = rows[-1][2]
        if baseline is None or current is None or baseline == current:
            continue
        changes.append(_pupil_entry(
            pupils[pupil_id], from_band=baseline, to_band=current,
            baseline_on=baseline_on.isoformat(), changed_on=rows[-1][0].isoformat(),
            worse=current > baseline,
        ))
    changes.sort(key=lambda e: (not e["worse"], -e["to_band"], e["sort_name"]))
    return changes


def _open_alerts(*, school: School, year: int) -> list[dict]:
    """Unacknowledged alerts about the school or its pupils, one per event (an event may have
    several recipients). Pupils are read by id afterwards: joining them in makes PostgreSQL
    scan every pupil in the city."""
    from alerts.models import Alert, Rule
    from pupils.models import Pupil

    school_pupils = PupilSummary.objects.filter(school=school, academic_year=year).values(
        "pupil_id")
    alerts = list(
        Alert.objects.filter(acknowledged_at__isnull=True)
        .filter(Q(school=school) | Q(pupil_id__in=school_pupils))
        .order_by("-created_at", "-pk")
        .values("rule", "dedup_key", "summary", "created_at", "pupil_id")[:500]
    )
    pupils = {p["pk"]: p for p in Pupil.objects.filter(
        pk__in={a["pupil_id"] for a in alerts if a["pupil_id"]}).values(
        "pk", "forename", "surname", "upn")}
    labels = dict(Rule.choices)
    seen, result = set(), []
    for alert in alerts:
        key = (alert["rule"], alert["dedup_key"])
        if key in seen:
            continue
        seen.add(key)
        pupil = pupils.get(alert["pupil_id"])
        result.append({
            "rule": labels.get(alert["rule"], alert["rule"]), "summary": alert["summary"],
            "raised": timezone.localtime(alert["created_at"]).date().isoformat(),
            "pupil": f"{pupil['forename']} {pupil['surname']}" if pupil else None,
            "upn": pupil["upn"] if pupil else None,
        })
    return result


def _open_interventions(*, school: School, year: int) -> list[dict] | None:
    """Open interventions (no end date yet) for the school's pupils, from the interventions
    app's ``Intervention`` (pupil through its case). None (the pack leaves the section out)
    if that app does not provide them."""
    try:
        model = apps.get_model("interventions", "Intervention")
    except LookupError:
        return None
    try:
        rows = (
            model.objects.filter(
                case__pupil_id__in=PupilSummary.objects.filter(
                    school=school, academic_year=year).values("pupil_id"),
                end_date__isnull=True)
            .select_related("case__pupil")
            .order_by("case__pupil__surname", "case__pupil__forename", "start_date")[:500]
        )
        return [{
            "pupil": item.case.pupil.full_name, "upn": item.case.pupil.upn,
            "type": item.get_type_display(),
            "start_date": item.start_date.isoformat() if item.start_date else None,
        } for item in rows]
    except (FieldError, AttributeError):
        return None


def _action_entry(action: Action) -> dict:
    return {
        "id": action.pk, "description": action.description,
        "owner": action.owner.full_name or action.owner.email,
        "due_date": action.due_date.isoformat(), "status": action.status,
        "status_label": action.get_status_display(),
        "pupil": action.pupil.full_name if action.pupil else None,
        "upn": action.pupil.upn if action.pupil else None,
    }


def _pupil_sections(*, school: School, year: int, today: date, since: date) -> dict:
    """The parts of the pack read from the nightly figures (PupilSummary, BandHistory and the
    characteristics): the school's bands, the pupils to discuss, band changes, cohorts."""
    rows = _school_pupils(school_id=school.pk, year=year, today=today)
    by_id = {row["pupil_id"]: row for row in rows}
    by_band: dict[int, list] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        figures = by_band[row["band"]]
        figures[0] += 1
        figures[1] += row["attended"]
        figures[2] += row["possible"]
    ordered = sorted(rows, key=lambda r: (r["surname"].lower(), r["forename"].lower()))
    severe = [_pupil_entry(r) for r in ordered if r["band"] == Band.SEVERE_ABSENCE]
    at_risk = [_pupil_entry(r) for r in ordered if r["band"] == Band.AT_RISK_OF_SA]
    as_of = max((row["as_of"] for row in rows), default=None)
    return {
        "school": _figures({b: tuple(v) for b, v in by_band.items()}),
        "as_of": as_of and as_of.isoformat(),
        "cohorts": _cohorts(rows),
        "severe": _limited(severe),
        "at_risk_severe": _limited(at_risk),
        "band_changes_since": since.isoformat(),
        "band_changes": _limited(_band_changes(school_id=school.pk, pupils=by_id, year=year,
                                               since=since)),
    }


def _latest_runs(*, school: School) -> tuple[int | None, int | None]:
    """The latest classification run and the latest applied import for the school, in one
    round trip."""
    from attendance.models import ImportRun

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT max(id) FROM attendance_reclassificationrun),
                   (SELECT max(id) FROM attendance_importrun
                    WHERE status = %(applied)s
                      AND (school_id = %(school)s OR school_urns @> %(urns)s::jsonb))
            """,
            {"applied": ImportRun.Status.APPLIED, "school": school.pk,
             "urns": json.dumps([school.urn])},
        )
        return cursor.fetchone()


def pack_cache_key(*, meeting: TargetingSupportMeeting, run: int | None, imported: int | None,
                   today: date, since: date) -> str | None:
    """What the pupil sections of a live pack depend on, as a cache key.

    Their inputs change only when a classification runs (nightly, or for the school after an
    import: a new ``ReclassificationRun``) or an import for the school completes (characteristics
    from a CTF), so the key holds the latest of each (``_latest_runs``), plus the day
    (characteristics are read "as of today") and the band-change baseline. None (no caching)
    before any classification. A roster import (no ImportRun) shows from the next nightly run.
    """
    if run is None:
        return None
    return (f"tsm:pack:v{PACK_VERSION}:{meeting.pk}:run{run}:import{imported or 0}:"
            f"{today.isoformat()}:{since.isoformat()}")


def meeting_pack_live(*, meeting: TargetingSupportMeeting, today: date | None = None,
                      cached: bool = True) -> dict:
    """The pack from today's PupilSummary rows (never raw marks), as JSON-ready data."""
    return _meeting_pack_live(meeting=meeting, today=today, cached=cached)[0]


def _meeting_pack_live(*, meeting: TargetingSupportMeeting, today: date | None = None,
                       cached: bool = True) -> tuple[dict, str | None]:
    """The pack from today's PupilSummary rows (never raw marks), as JSON-ready data.

    The pupil sections are cached under ``pack_cache_key`` (rebuilt after each classification
    run or completed import for the school); the last TSM, the actions, the alerts and the
    interventions are read on every call, as they change during the day. ``cached=False``
    (holding the meeting) reads everything afresh.
    """
    today = today or timezone.localdate()
    school = meeting.school
    term = meeting.round.term
    year = term.academic_year.start_year
    run, imported = _latest_runs(school=school)
    phase_figures, city_figures = _comparators(year=year, phase=school.phase, run=run)

    last = previous_meeting(meeting=meeting)
    last_figures = None
    if last is not None and last.snapshot:
        last_figures = {
            "term": str(last.round.term),
            "held_on": timezone.localtime(last.held_at).date().isoformat(),
            **(last.snapshot.get("school") or {}),
        }
    since = max(timezone.localtime(last.held_at).date(), term.academic_year.start_date) \
        if last is not None else term.academic_year.start_date

    def compute():
        return _pupil_sections(school=school, year=year, today=today, since=since)

    key = pack_cache_key(meeting=meeting, run=run, imported=imported, today=today,
                         since=since) if cached else None
    sections = cache.get_or_set(key, compute, timeout=PACK_CACHE_SECONDS) if key else compute()

    last_actions = []
    if last is not None:
        last_actions = [_action_entry(a) for a in last.actions.select_related("owner", "pupil")]
    carried = [_action_entry(a) for a in meeting.actions.filter(carried_from__isnull=False)
               .select_related("owner", "pupil")]

    return {
        "version": PACK_VERSION,
        "school": sections["school"],
        "school_name": school.name, "urn": school.urn,
        "phase": school.phase, "phase_label": dict(Phase.choices).get(school.phase, school.phase),
        "term": str(term), "theme": meeting.round.theme,
        "academic_year": str(term.academic_year), "as_of": sections["as_of"],
        "prepared_on": today.isoformat(),
        "last_tsm": last_figures,
        "phase_figures": phase_figures,
        "city": city_figures,
        "cohorts": sections["cohorts"],
        "severe": sections["severe"],
        "at_risk_severe": sections["at_risk_severe"],
        "band_changes_since": sections["band_changes_since"],
        "band_changes": sections["band_changes"],
        "last_actions": last_actions,
        "carried_actions": carried,
        "alerts": _open_alerts(school=school, year=year),
        "interventions": _open_interventions(school=school, year=year),
    }, key


def meeting_pack(*, meeting: TargetingSupportMeeting) -> dict:
    """The pack for a meeting the caller already fetched through ``meeting_get``.

    A held meeting's pack is the snapshot frozen when it was held, never today's figures.
    ``figures_key`` names the pupil sections (the same key, the same figures: pages cache their
    rendering under it); None when they were not cached.
    """
    if meeting.status == MeetingStatus.HELD and meeting.snapshot:
        return {**meeting.snapshot, "live": False,
                "frozen_at": timezone.localtime(meeting.held_at).isoformat(),
                "figures_key": f"tsm:frozen:v{PACK_VERSION}:{meeting.pk}:"
                               f"{meeting.held_at.timestamp()}"}
    pack, key = _meeting_pack_live(meeting=meeting)
    return {**pack, "live": True, "frozen_at": None, "figures_key": key}


# --- live recording --------------------------------------------------------------------------

def meeting_record(*, meeting: TargetingSupportMeeting) -> dict:
    """Agenda, pupils to discuss (with their notes), and actions, for the recording page."""
    items = list(meeting.agenda_items.all())
    notes = {n.pupil_id: n for n in meeting.pupil_notes.select_related("pupil")}
    pack = meeting_pack(meeting=meeting)
    discuss = []
    seen = set()
    for section, label in (("severe", "Severe absence"), ("at_risk_severe", "At risk of severe")):
        for entry in pack[section]["pupils"]:
            seen.add(entry["pupil_id"])
            discuss.append({**entry, "section": label, "note": notes.get(entry["pupil_id"])})
    others = [note for pupil_id, note in notes.items() if pupil_id not in seen]
    actions = list(meeting.actions.select_related("owner", "pupil",
                                                  "carried_from__meeting__round__term"))
    return {"agenda": items, "discuss": discuss, "other_notes": others, "actions": actions,
            "pack": pack}


# --- coverage --------------------------------------------------------------------------------

def tsm_coverage(*, user, term: Term, today: date | None = None) -> dict:
    """Every open school's TSM status this term, by officer; overdue meetings and actions."""
    from schools.selectors import school_list

    today = today or timezone.localdate()
    schools = school_list(user=user).filter(status__istartswith="open").select_related(
        "link_officer", "locality").order_by("name")
    meetings = {
        m.school_id: m for m in TargetingSupportMeeting.objects.filter(
            round__term=term, school__in=schools).select_related("link_officer", "round__term")
    }
    term_over = term.end_date < today
    rows, by_officer = [], {}
    for school in schools:
        meeting = meetings.get(school.pk)
        officer = school.link_officer
        status = meeting.status if meeting else "none"
        label = meeting.get_status_display() if meeting else "No meeting in this round"
        overdue = term_over and status != MeetingStatus.HELD
        rows.append({
            "school": school.name, "urn": school.urn,
            "locality": school.locality.name if school.locality else "",
            "officer": (officer.full_name or officer.email) if officer else "",
            "status": status, "status_label": label,
            "date": meeting.proposed_start if meeting else None,
            "held_at": meeting.held_at if meeting else None,
            "overdue": overdue, "meeting_id": meeting.pk if meeting else None,
        })
        key = (officer.full_name or officer.email) if officer else "No link officer"
        counts = by_officer.setdefault(key, {"officer": key, "schools": 0, "held": 0,
                                             "confirmed": 0, "proposed": 0, "to_book": 0,
                                             "cancelled": 0, "none": 0, "overdue": 0})
        counts["schools"] += 1
        counts[status] += 1
        counts["overdue"] += overdue
    overdue_actions = list(
        Action.objects.filter(status=ActionStatus.OPEN, due_date__lt=today,
                              meeting__school__in=schools)
        .select_related("owner", "meeting__school", "meeting__round__term", "pupil")
        .order_by("due_date", "pk")
    )
    held = sum(1 for r in rows if r["status"] == MeetingStatus.HELD)
    return {
        "term": term, "today": today, "term_over": term_over, "rows": rows,
        "by_officer": sorted(by_officer.values(), key=lambda c: c["officer"]),
        "overdue_meetings": [r for r in rows if r["overdue"]],
        "overdue_actions": overdue_actions,
        "totals": {"schools": len(rows), "held": held, "pct_held": _pct(held, len(rows))},
        "round": TsmRound.objects.filter(term=term).first(),
    }


def coverage_table(coverage: dict) -> tuple[list[str], list[list]]:
    """The coverage rows as a header and plain cells, for CSV and XLSX exports."""
    header = ["School", "URN", "Locality", "Link officer", "Status", "Meeting date", "Held on",
              "Overdue"]
    cells = []
    for row in coverage["rows"]:
        when = row["date"]
        held = row["held_at"]
        cells.append([
            row["school"], row["urn"], row["locality"], row["officer"], row["status_label"],
            timezone.localtime(when).strftime("%d/%m/%Y %H:%M") if isinstance(when, datetime)
            else "",
            timezone.localtime(held).strftime("%d/%m/%Y") if isinstance(held, datetime) else "",
            "Yes" if row["overdue"] else "No",
        ])
    return header, cells
