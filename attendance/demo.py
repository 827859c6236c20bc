"""A realistic year of session marks for every enrolled pupil of the demo city.

    demo_marks_generate(*, academic_year, seed, school_ids=None) -> int

Rates are set near the Plymouth figures in the 000 seed (DOMAIN.md): overall absence about 5%
in primary, 9% in secondary and 12% in special schools; FSM pupils about twice the absence of
non-FSM pupils; SEN, CIN, CP and CLA raised; rising through secondary year groups; a tail of
persistent absentees and ~1-2% severely absent (long spells, mostly unauthorised). Mondays and
Fridays are worse, winter is worse; illness (I) is the most common authorised reason, medical
appointments (M) are often half days, unauthorised holidays (G) come in blocks next to the
ends of terms and half terms, a few recent absences are still N, and some pupils are late
(L, occasionally U). Dual-registered pupils get D at one school on the days they are at the
other.

Everything is numpy, one school at a time (a loop over days, never over pupils or marks), and
written through ``attendance.loading.marks_load`` (binary COPY + one upsert) like an import.
Running it twice with the same seed changes nothing.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from attendance.importers.formats import EPOCH_ORDINAL
from attendance.importers.validate import CodeTable
from attendance.loading import marks_load

# Target overall absence (share of possible sessions) by phase, before the severe tail.
PHASE_ABSENCE = {
    "nursery": 0.070, "infant": 0.045, "junior": 0.045, "primary": 0.048, "middle": 0.065,
    "secondary": 0.082, "all_through": 0.070, "special": 0.105, "ap": 0.300, "pru": 0.300,
}
# Share of pupils severely absent (≤ 50% attendance), by phase (000 seed: 0.5% primary,
# 1.6% secondary, 4.7% special; AP far higher).
PHASE_SEVERE = {
    "nursery": 0.005, "infant": 0.004, "junior": 0.005, "primary": 0.005, "middle": 0.010,
    "secondary": 0.017, "all_through": 0.012, "special": 0.045, "ap": 0.25, "pru": 0.25,
}
YEAR_GROUP = {"N1": 1.3, "N2": 1.25, "R": 1.1, "1": 1.0, "2": 0.95, "3": 0.92, "4": 0.92,
              "5": 0.92, "6": 0.95, "7": 0.85, "8": 0.95, "9": 1.05, "10": 1.15, "11": 1.25,
              "12": 1.15, "13": 1.2, "14": 1.2}
WEEKDAY = np.array([1.15, 0.93, 0.90, 0.95, 1.12])  # Monday … Friday
MONTH = {9: 0.80, 10: 0.95, 11: 1.05, 12: 1.20, 1: 1.15, 2: 1.10, 3: 1.00, 4: 0.95, 5: 0.92,
         6: 0.95, 7: 1.00, 8: 1.0}
# Reasons for a day's absence: (code, weight) for pupils in the normal range / severely absent.
REASONS = [("I", 0.58), ("M", 0.09), ("O", 0.12), ("N", 0.015), ("C", 0.05), ("R", 0.01),
           ("E", 0.015), ("C2", 0.005), ("T", 0.005), ("S", 0.0), ("U", 0.0)]
SEVERE_REASONS = [("O", 0.50), ("I", 0.22), ("N", 0.04), ("C2", 0.12), ("E", 0.04), ("M", 0.08)]
LATE = 0.018  # of present AM sessions
LATE_AFTER_CLOSE = 0.12  # share of lates that are U (after the register closed)
HOLIDAY_TAKERS = 0.055  # pupils taking a term-time holiday block (G)


def demo_marks_generate(*, academic_year, seed: int, school_ids=None) -> int:
    """Write a year of marks (up to today) for every pupil enrolled at the schools; returns the
    number of session marks generated and loaded."""
    from pupils.models import Characteristics, Enrolment
    from schools.models import ClosureDay, School

    codes = CodeTable.load().codes
    code_of = {c: i for i, c in enumerate(codes) if c}
    today = timezone.localdate()
    days = _school_days(academic_year, today)
    if not len(days):
        return 0
    closures_all = set(ClosureDay.objects.filter(school__isnull=True, date__gte=academic_year
                                                 .start_date, date__lte=academic_year.end_date)
                       .values_list("date", flat=True))
    days = np.array([d for d in days if day_date(d) not in closures_all], dtype=np.int32)

    schools = School.objects.all()
    if school_ids is not None:
        schools = schools.filter(id__in=list(school_ids))
    schools = list(schools.values_list("id", "phase"))
    school_closures = pd.DataFrame(list(ClosureDay.objects.filter(
        school__isnull=False, date__gte=academic_year.start_date,
        date__lte=academic_year.end_date).values_list("school_id", "date")),
        columns=["school_id", "date"])

    enrol = pd.DataFrame(list(Enrolment.objects.filter(
        school_id__in=[s for s, _ in schools], start_date__lte=academic_year.end_date,
    ).exclude(end_date__lt=academic_year.start_date).order_by(
        "school_id", "pupil_id", "start_date").values_list(
        "pupil_id", "school_id", "start_date", "end_date", "registration")),
        columns=["pupil_id", "school_id", "start", "end", "registration"])
    if enrol.empty:
        return 0
    chars = pd.DataFrame(list(Characteristics.objects.filter(
        pupil_id__in=enrol.pupil_id.unique().tolist(), effective_date__lte=academic_year.end_date,
    ).order_by("pupil_id", "-effective_date").values_list(
        "pupil_id", "year_group", "fsm", "sen", "cin", "cp", "cla")),
        columns=["pupil_id", "year_group", "fsm", "sen", "cin", "cp", "cla"])
    chars = chars.drop_duplicates("pupil_id")
    enrol = enrol.merge(chars, on="pupil_id", how="left")
    enrol["start_day"] = enrol.start.map(lambda d: d.toordinal() - EPOCH_ORDINAL)
    enrol["end_day"] = enrol.end.map(lambda d: d.toordinal() - EPOCH_ORDINAL if d else 10 ** 6)

    total = 0
    for school_id, phase in schools:
        group = enrol[enrol.school_id == school_id]
        if group.empty:
            continue
        closed = set(school_closures.loc[school_closures.school_id == school_id, "date"])
        school_days = (np.array([d for d in days if day_date(d) not in closed], dtype=np.int32)
                       if closed else days)
        rng = np.random.default_rng([seed, school_id, academic_year.start_year])
        am, pm = _school_marks(rng, group, phase, school_days, academic_year, code_of)
        on_roll = ((school_days[None, :] >= group.start_day.to_numpy()[:, None])
                   & (school_days[None, :] <= group.end_day.to_numpy()[:, None]))
        pupil = np.broadcast_to(group.pupil_id.to_numpy()[:, None], on_roll.shape)[on_roll]
        day = np.broadcast_to(school_days[None, :], on_roll.shape)[on_roll]
        with transaction.atomic():
            marks_load(pupil_id=pupil.astype(np.int64),
                       school_id=np.full(len(pupil), school_id, dtype=np.int64),
                       day=day.astype(np.int32), am=am[on_roll], pm=pm[on_roll], codes=codes)
        total += 2 * len(pupil)
    return total


def day_date(day: int) -> date:
    return date.fromordinal(EPOCH_ORDINAL + int(day))


def _school_days(academic_year, today: date) -> np.ndarray:
    days = []
    for term in academic_year.terms.all():
        days.extend(d.toordinal() - EPOCH_ORDINAL for d in term.school_days() if d <= today)
    return np.array(sorted(days), dtype=np.int32)


def _school_marks(rng, group: pd.DataFrame, phase: str, days: np.ndarray, academic_year,
                  code_of: dict[str, int]):
    """AM and PM code indexes, pupils × days (uint8)."""
    n, t = len(group), len(days)
    fsm = group.fsm.fillna(False).to_numpy(dtype=bool)
    sen = group.sen.fillna("N").to_numpy(dtype=object)
    weight = np.where(fsm, 2.0, 1.0)
    weight *= np.select([sen == "K", sen == "E"], [1.3, 1.5], 1.0)
    weight *= np.where(group.cin.fillna(False).to_numpy(dtype=bool), 1.8, 1.0)
    weight *= np.where(group.cp.fillna(False).to_numpy(dtype=bool), 2.2, 1.0)
    weight *= np.where(group.cla.fillna(False).to_numpy(dtype=bool), 1.15, 1.0)
    weight *= group.year_group.map(YEAR_GROUP).fillna(1.0).to_numpy(dtype=float)
    spread = rng.gamma(shape=2.2, scale=1 / 2.2, size=n)  # mean 1: a persistent-absence tail
    propensity = weight * spread
    target = PHASE_ABSENCE.get(phase, 0.06)
    rate = np.clip(target * propensity / propensity.mean(), 0.0, 0.45)

    severe_share = PHASE_SEVERE.get(phase, 0.01)
    n_severe = rng.binomial(n, severe_share)
    severe = np.zeros(n, dtype=bool)
    if n_severe:
        chance = weight / weight.sum()
        severe[rng.choice(n, size=min(n_severe, n), replace=False, p=chance)] = True
        rate[severe] = rng.uniform(0.52, 0.9, size=severe.sum())

    dates = pd.to_datetime([day_date(d) for d in days])
    day_factor = WEEKDAY[dates.day_of_week.to_numpy()] * np.array([MONTH[m] for m in dates.month])
    day_factor /= day_factor.mean()

    # Absence spells: a two-state chain per pupil, stepping through the days (vectorised over
    # pupils). Stay-absent probability is higher for severe absentees (long spells).
    stay = np.where(severe, 0.9, 0.5)
    absent = np.zeros((n, t), dtype=bool)
    reason = np.zeros((n, t), dtype=np.uint8)
    normal_codes = np.array([code_of[c] for c, _ in REASONS], dtype=np.uint8)
    normal_p = np.array([w for _, w in REASONS])
    normal_p /= normal_p.sum()
    severe_codes = np.array([code_of[c] for c, _ in SEVERE_REASONS], dtype=np.uint8)
    severe_p = np.array([w for _, w in SEVERE_REASONS])
    severe_p /= severe_p.sum()
    draws = rng.random((n, t))
    new_normal = normal_codes[rng.choice(len(normal_codes), size=(n, t), p=normal_p)]
    new_severe = severe_codes[rng.choice(len(severe_codes), size=(n, t), p=severe_p)]
    new_reason = np.where(severe[:, None], new_severe, new_normal)
    prev = np.zeros(n, dtype=bool)
    for j in range(t):
        pi = np.clip(rate * day_factor[j], 0.0, 0.95)
        start = pi * (1 - stay) / np.maximum(1 - pi, 1e-6)  # keeps the chain's mean at pi
        p_absent = np.where(prev, stay, np.clip(start, 0, 1))
        now = draws[:, j] < p_absent
        absent[:, j] = now
        reason[:, j] = np.where(prev & now, reason[:, j - 1] if j else new_reason[:, j],
                                new_reason[:, j])
        prev = now

    present_am, present_pm = code_of["/"], code_of["\\"]
    am = np.where(absent, reason, present_am).astype(np.uint8)
    pm = np.where(absent, reason, present_pm).astype(np.uint8)

    # Medical appointments are usually half a day.
    medical = absent & (reason == code_of["M"])
    half = medical & (rng.random((n, t)) < 0.7)
    morning = rng.random((n, t)) < 0.5
    pm[half & morning] = present_pm
    am[half & ~morning] = present_am

    # Term-time holidays (G): a block of up to five days next to a term or half-term end.
    takers = (rng.random(n) < HOLIDAY_TAKERS * np.where(fsm, 0.8, 1.1)) & ~severe
    if takers.any():
        ends = _holiday_edges(days, academic_year)
        if len(ends):
            which = rng.integers(len(ends), size=takers.sum())
            length = rng.integers(2, 6, size=takers.sum())
            for row, end_idx, k in zip(np.nonzero(takers)[0], ends[which], length, strict=True):
                lo = max(0, end_idx - k + 1)
                am[row, lo:end_idx + 1] = code_of["G"]
                pm[row, lo:end_idx + 1] = code_of["G"]

    # Lateness on present mornings: L, and now and then U (after the register closed).
    late = (am == present_am) & (rng.random((n, t)) < LATE * np.where(fsm, 1.6, 1.0)[:, None])
    am[late] = np.where(rng.random(late.sum()) < LATE_AFTER_CLOSE, code_of["U"], code_of["L"])

    # The last five school days: some absences not yet explained (N).
    recent = slice(max(0, t - 5), t)
    unexplained = absent[:, recent] & (rng.random((n, min(5, t))) < 0.35)
    am_tail, pm_tail = am[:, recent], pm[:, recent]  # views: assigning writes through
    am_tail[unexplained & (am_tail != present_am)] = code_of["N"]
    pm_tail[unexplained & (pm_tail != present_pm)] = code_of["N"]

    # Dual registration: at the subsidiary school Monday-Wednesday, D there on other days;
    # at the main school, D Monday-Wednesday.
    registration = group.registration.to_numpy(dtype=object)
    if (registration != "C").any():
        weekday = dates.day_of_week.to_numpy()
        at_subsidiary = weekday <= 2
        for row in np.nonzero(registration != "C")[0]:
            away = ~at_subsidiary if registration[row] == "S" else at_subsidiary
            am[row, away] = code_of["D"]
            pm[row, away] = code_of["D"]
    return am, pm


def _holiday_edges(days: np.ndarray, academic_year) -> np.ndarray:
    """Indexes of the last school day before each half term and term end."""
    edges = []
    for term in academic_year.terms.all():
        for boundary in (term.half_term_start, term.end_date):
            if boundary is None:
                continue
            limit = boundary.toordinal() - EPOCH_ORDINAL
            before = np.nonzero(days <= limit)[0]
            if len(before) and limit - days[before[-1]] < 7:
                edges.append(before[-1])
    return np.array(sorted(set(edges)), dtype=np.int64)
