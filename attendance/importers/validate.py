"""Vectorised checks of marks frames against the portal's reference data.

Each check works on the distinct values of a column (a file of 500,000 marks holds a few hundred
distinct dates, a few thousand UPNs and a dozen codes), then maps the verdict back to the rows
with numpy. No Python loop runs per row. Valid marks are kept as compact numpy arrays (17 bytes a
mark) so a file of millions of marks is held in a few hundred megabytes at most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.gb import upn as upn_checker

from attendance.importers.formats import EPOCH, EPOCH_ORDINAL, parse_day
from attendance.importers.issues import FileRejected, IssueLog, Source

# Bit layout of a mark key: pupil (24 bits) | school (10) | day since 2000-01-01 (14) | session (1)
# | code index (6). Without the code bits it names one session ("mark"); 55 bits in all.
_SESSION_BITS, _DAY_BITS, _SCHOOL_BITS = 1, 14, 10
_CODE_BITS = 6  # the code index rides in the low bits, so sorting the keys carries it along
_MAX_PUPILS, _MAX_SCHOOLS, _MAX_DAY = 1 << 24, 1 << _SCHOOL_BITS, 1 << _DAY_BITS

SESSION_WORDS = {"AM": 0, "A": 0, "MORNING": 0, "PM": 1, "P": 1, "AFTERNOON": 1}
SESSION_LABEL = np.array(["AM", "PM"], dtype=object)

WEEKDAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# Day status codes
OK, FUTURE, WEEKEND, NO_YEAR, HOLIDAY, HALF_TERM, CLOSED = range(7)


def day_to_date(day: int) -> date:
    return date.fromordinal(EPOCH_ORDINAL + int(day))


def fmt_day(day: int) -> str:
    return day_to_date(day).strftime("%d/%m/%Y")


def academic_year_of_days(days: np.ndarray) -> np.ndarray:
    dt = np.datetime64(EPOCH.isoformat(), "D") + days.astype("timedelta64[D]")
    years = dt.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dt.astype("datetime64[M]").astype(np.int64) % 12 + 1
    return years - (months < 9)


def ay_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


@dataclass
class CodeTable:
    codes: list[str]  # index 0 is "no mark"
    index: dict[str, int]
    first_year: np.ndarray
    last_year: np.ndarray
    possible: np.ndarray
    meaning: dict[str, str]
    legacy: dict[str, dict]  # code → mapping dict (last_year, stored_as, meaning_then, note)

    @classmethod
    def load(cls) -> CodeTable:
        from attendance.models import AttendanceCode, LegacyCodeMapping

        rows = list(AttendanceCode.objects.order_by("id").values(
            "code", "first_year", "last_year", "counts_as_possible", "meaning"))
        codes = [""] + [r["code"] for r in rows]
        legacy = {m.code: {"first_year": m.first_year, "last_year": m.last_year,
                           "stored_as": m.stored_as, "meaning_then": m.meaning_then,
                           "note": m.note}
                  for m in LegacyCodeMapping.objects.all()}
        return cls(
            codes=codes,
            index={c: i for i, c in enumerate(codes) if c},
            first_year=np.array([0] + [r["first_year"] or 0 for r in rows], dtype=np.int32),
            last_year=np.array([9999] + [r["last_year"] or 9999 for r in rows], dtype=np.int32),
            possible=np.array([False] + [r["counts_as_possible"] for r in rows], dtype=bool),
            meaning={r["code"]: r["meaning"] for r in rows},
            legacy=legacy,
        )

    @property
    def possible_single_chars(self) -> set[str]:
        return {c for i, c in enumerate(self.codes) if c and len(c) == 1 and self.possible[i]}

    def list_2024(self) -> str:
        return " ".join(c for i, c in enumerate(self.codes)
                        if c and self.last_year[i] == 9999)


@dataclass
class Calendar:
    """What each day is (school day, weekend, half term...), from AcademicYear/Term/ClosureDay."""

    today: date
    years: dict[int, list] = field(default_factory=dict)  # start_year → [(term name, start, end, hts, hte)]
    closures: dict[date, str] = field(default_factory=dict)
    school_closures: dict[tuple[int, int], str] = field(default_factory=dict)  # (school, day)

    @classmethod
    def load(cls, today: date) -> Calendar:
        from schools.models import ClosureDay, Term

        cal = cls(today=today)
        for term in Term.objects.select_related("academic_year"):
            cal.years.setdefault(term.academic_year.start_year, []).append(
                (term.get_name_display(), term.start_date, term.end_date,
                 term.half_term_start, term.half_term_end))
        for closure in ClosureDay.objects.all():
            if closure.school_id is None:
                cal.closures[closure.date] = closure.reason
            else:
                cal.school_closures[(closure.school_id, closure.date.toordinal() - EPOCH_ORDINAL)] = \
                    closure.reason
        return cal

    def status(self, day: int) -> tuple[int, str]:
        d = day_to_date(day)
        when = d.strftime("%d/%m/%Y")
        if d > self.today:
            return FUTURE, (f"{when} is in the future; marks can only be imported for days that "
                            "have happened. Check the date (dd/mm/yyyy).")
        if d.weekday() >= 5:
            return WEEKEND, (f"{when} is a {WEEKDAY[d.weekday()]}; there are no sessions at "
                             "weekends. Check the date (dd/mm/yyyy, day first).")
        start_year = d.year if d.month >= 9 else d.year - 1
        terms = self.years.get(start_year)
        if not terms:
            return NO_YEAR, (f"{when} is in {ay_label(start_year)}, which has no term dates in "
                             "the portal; ask the LA data team to add that year's terms before "
                             "importing its marks.")
        for name, start, end, hts, hte in terms:
            if start <= d <= end:
                if hts and hte and hts <= d <= hte:
                    return HALF_TERM, (
                        f"{when} is in the {name.lower()} half term ({hts:%d/%m/%Y}–"
                        f"{hte:%d/%m/%Y}); half-term days are not school days. Check the date.")
                if d in self.closures:
                    return CLOSED, (f"{when} is a closure day for all schools "
                                    f"({self.closures[d]}); there are no sessions to mark.")
                return OK, ""
        spans = "; ".join(f"{n.lower()} {s:%d/%m/%Y}–{e:%d/%m/%Y}" for n, s, e, _, _ in terms)
        return HOLIDAY, (f"{when} is outside term time ({ay_label(start_year)} terms: {spans}); "
                         "there are no sessions in the holidays. Check the date.")


@dataclass
class SchoolTable:
    by_urn: dict[str, int]
    by_laestab: dict[str, int]
    label: dict[int, str]
    urn: dict[int, str]

    @classmethod
    def load(cls) -> SchoolTable:
        from schools.models import School

        rows = list(School.objects.values_list("id", "urn", "la_code", "establishment_number",
                                               "name", "status"))
        by_laestab = {}
        for sid, _urn, la, estab, _name, status in rows:
            # DfE numbers are unique among open schools; prefer the open one.
            if f"{la}{estab}" not in by_laestab or str(status).lower().startswith("open"):
                by_laestab[f"{la}{estab}"] = sid
        return cls(by_urn={r[1]: r[0] for r in rows}, by_laestab=by_laestab,
                   label={r[0]: f"{r[4]} (URN {r[1]}, {r[2]}/{r[3]})" for r in rows},
                   urn={r[0]: r[1] for r in rows})


def _factorize(values):
    """(codes, distinct values as objects) of a column.

    A categorical column (CSV text is read that way) is already factorised: its categories
    and codes are used as they are. Otherwise pandas hashes the values; a missing value (None,
    NaN) becomes one extra distinct value None, without a separate null scan of every row."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cat = values.array if isinstance(values, pd.Series) else values
        codes = np.asarray(cat.codes, dtype=np.int64)
        uniques = np.asarray(cat.categories, dtype=object)
    else:
        if isinstance(values, pd.Series):
            values = values.to_numpy(dtype=object)
        codes, uniques = pd.factorize(values)
        uniques = np.asarray(uniques, dtype=object)
    missing = codes < 0
    if missing.any():
        codes = np.where(missing, len(uniques), codes)
        uniques = np.append(uniques, np.array([None], dtype=object))
    return codes, uniques


def _str(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _date_value_to_day(value) -> int | None:
    if isinstance(value, datetime):
        return value.date().toordinal() - EPOCH_ORDINAL
    if isinstance(value, date):
        return value.toordinal() - EPOCH_ORDINAL
    if isinstance(value, pd.Timestamp):
        return value.date().toordinal() - EPOCH_ORDINAL
    text = _str(value).strip()
    if not text:
        return None
    if " " in text:  # "2025-09-02 00:00:00" from a spreadsheet
        head, _, tail = text.partition(" ")
        if tail.strip() in ("00:00:00", "00:00"):
            text = head
    return parse_day(text)


@dataclass
class Accumulated:
    keys: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    cols: list = field(default_factory=list)
    srcs: list = field(default_factory=list)


class Validator:
    """Checks marks frames, keeps the valid marks, and reports the rest to an IssueLog."""

    def __init__(self, *, school, allowed_school_ids: set[int] | None, today: date,
                 issues: IssueLog):
        self.default_school = school
        self.allowed = allowed_school_ids
        self.issues = issues
        self.codes = CodeTable.load()
        self.calendar = Calendar.load(today)
        self.schools = SchoolTable.load()
        self.pupil_ids: dict[str, int] = {}
        self.pupil_missing: set[str] = set()
        self.pupil_index: dict[int, int] = {}
        self.pupil_list: list[int] = []
        self.upn_of: dict[int, str] = {}
        self.school_index: dict[int, int] = {}
        self.school_list: list[int] = []
        self.enrol = pd.DataFrame({"pupil_id": np.array([], dtype=np.int64),
                                   "school_id": np.array([], dtype=np.int64),
                                   "start": np.array([], dtype=np.int64),
                                   "end": np.array([], dtype=np.int64)})
        self.enrol_loaded: set[int] = set()
        self.day_status: dict[int, tuple[int, str]] = {}
        self.sources: list[tuple[Source, object]] = []
        self.acc = Accumulated()
        self.marks_read = 0
        self.rejected = 0
        self.hash_dropped = 0
        self.summary_parts: list[pd.DataFrame] = []
        self.summary_rows = 0

    # --- reference look-ups (on distinct values only) -------------------------------------

    def _upns(self, uniques: np.ndarray):
        """For each distinct UPN as written: normalised text, pupil id (-1) and error text."""
        norm = np.array([_str(u).strip().upper() for u in uniques], dtype=object)
        ids = np.full(len(uniques), -1, dtype=np.int64)
        messages = np.full(len(uniques), "", dtype=object)
        unknown = [u for u in set(norm) if u and u not in self.pupil_ids
                   and u not in self.pupil_missing]
        if unknown:
            from pupils.models import Pupil

            found = dict(Pupil.objects.filter(upn__in=unknown).values_list("upn", "id"))
            self.pupil_ids.update(found)
            self.pupil_missing.update(set(unknown) - set(found))
        for i, upn in enumerate(norm):
            if not upn:
                messages[i] = ("The UPN is blank. Every row needs the pupil's 13-character UPN "
                               "from the MIS.")
                continue
            try:
                upn_checker.validate(upn)
            except StdnumError as exc:
                messages[i] = (f"'{upn}' is not a valid UPN ({exc.message}). A UPN is 13 "
                               "characters: a check letter, then 12 digits (the last may be a "
                               "letter for a temporary UPN). Copy it again from the MIS.")
                continue
            pid = self.pupil_ids.get(upn)
            if pid is None:
                messages[i] = (f"No pupil with UPN {upn} is in the portal. Ask the LA data team "
                               "to add the pupil to the roster, or check the UPN.")
                continue
            ids[i] = pid
            self.upn_of[pid] = upn
        return norm, ids, messages

    def _schools(self, uniques: np.ndarray, kind: str):
        ids = np.full(len(uniques), -1, dtype=np.int64)
        messages = np.full(len(uniques), "", dtype=object)
        for i, raw in enumerate(uniques):
            text = _str(raw).strip()
            if not text:
                if self.default_school is not None:
                    ids[i] = self.default_school.id
                else:
                    messages[i] = ("The school is blank. Give the school's URN (6 digits) or "
                                   "LAEstab (e.g. 8792001), or choose the school for the import.")
                continue
            if kind == "urn":
                sid = self.schools.by_urn.get(text)
                what = f"URN {text}"
            else:
                key = "".join(ch for ch in text if ch.isdigit())
                sid = self.schools.by_laestab.get(key)
                what = f"DfE number {text}"
            if sid is None:
                messages[i] = (f"There is no school with {what} in the portal. Use the "
                               "school's 6-digit URN or its LA code and establishment number.")
            elif self.default_school is not None and sid != self.default_school.id:
                messages[i] = (f"This row is for {self.schools.label[sid]}, but the import is "
                               f"for {self.schools.label[self.default_school.id]}. Import each "
                               "school's marks as that school.")
            elif self.allowed is not None and sid not in self.allowed:
                messages[i] = (f"You cannot import marks for {what}: it is not one of your "
                               "schools.")
            else:
                ids[i] = sid
        return ids, messages

    def _days(self, uniques: np.ndarray):
        """Day number (-1 when not a date) for each distinct date as written."""
        days = np.full(len(uniques), -1, dtype=np.int64)
        for i, raw in enumerate(uniques):
            value = _date_value_to_day(raw)
            if value is not None:
                days[i] = value
        return days

    def _status_of(self, days: np.ndarray):
        status = np.zeros(len(days), dtype=np.int8)
        messages = np.full(len(days), "", dtype=object)
        for i, day in enumerate(days):
            if day < 0:
                continue
            got = self.day_status.get(int(day))
            if got is None:
                got = self.day_status[int(day)] = self.calendar.status(int(day))
            status[i], messages[i] = got
        return status, messages

    def _load_enrolments(self, pupil_ids: np.ndarray) -> None:
        new = [int(p) for p in pupil_ids if p >= 0 and int(p) not in self.enrol_loaded]
        if not new:
            return
        from pupils.models import Enrolment

        rows = list(Enrolment.objects.filter(pupil_id__in=new).values_list(
            "pupil_id", "school_id", "start_date", "end_date"))
        self.enrol_loaded.update(new)
        if rows:
            far = date(2099, 12, 31)
            extra = pd.DataFrame({
                "pupil_id": np.array([r[0] for r in rows], dtype=np.int64),
                "school_id": np.array([r[1] for r in rows], dtype=np.int64),
                "start": np.array([r[2].toordinal() - EPOCH_ORDINAL for r in rows], dtype=np.int64),
                "end": np.array([(r[3] or far).toordinal() - EPOCH_ORDINAL for r in rows],
                                dtype=np.int64),
            })
            self.enrol = pd.concat([self.enrol, extra], ignore_index=True)

    # --- the checks -----------------------------------------------------------------------

    def add_source(self, source: Source, table) -> int:
        self.sources.append((source, table))
        return len(self.sources) - 1

    def _report(self, src: int, rows: np.ndarray, *, lines, columns, values, messages,
                cells=None) -> None:
        if not len(rows):
            return
        source, table = self.sources[src]
        frame = pd.DataFrame({"line": lines[rows], "column": columns[rows],
                              "value": values[rows], "message": messages[rows]})
        if cells is not None:
            frame["cell"] = cells[rows]
        self.issues.error_frame(source, frame)

    def check_marks(self, src: int, frame: pd.DataFrame) -> None:
        source, table = self.sources[src]
        n = len(frame)
        if not n:
            return
        is_ctf = bool(frame.attrs.get("ctf"))
        labels = np.asarray(table.labels, dtype=object)
        lines = frame["line"].to_numpy(dtype=np.int64)
        cols = frame["col"].to_numpy(dtype=np.int32)
        code_col_label = labels[cols]
        header_line = getattr(getattr(table, "table", None), "header_line", None)

        # Codes: blank is "no mark", not an error.
        code_f, code_u = _factorize(frame["code"])
        code_norm_u = np.array([_str(c).strip().upper() for c in code_u], dtype=object)
        present = (code_norm_u != "")[code_f]
        if not present.all():
            frame = frame.loc[present].reset_index(drop=True)
            lines, cols, code_col_label = lines[present], cols[present], code_col_label[present]
            code_f = code_f[present]
            n = len(frame)
            if not n:
                return
        code_idx = np.array([self.codes.index.get(c, 0) for c in code_norm_u],
                            dtype=np.uint8)[code_f]
        code_text = code_norm_u[code_f]
        raw_code = code_u[code_f]
        self.marks_read += n
        bad = np.zeros(n, dtype=bool)

        def cells_for(col_array, at_lines=None):
            if not table.is_xlsx:
                return None
            from attendance.importers.reading import excel_column

            at_lines = lines if at_lines is None else at_lines
            letters = np.array([excel_column(int(c)) for c in range(int(col_array.max()) + 1)],
                               dtype=object)
            return letters[col_array] + np.asarray(at_lines).astype(str).astype(object)

        # Session
        if not pd.api.types.is_integer_dtype(frame["session"].dtype):
            s_f, s_u = _factorize(frame["session"])
            s_val_u = np.array([SESSION_WORDS.get(_str(s).strip().upper(), -1) for s in s_u],
                               dtype=np.int8)
            session = s_val_u[s_f]
            wrong = session < 0
            if wrong.any():
                scol = table.roles["session"]
                rows = np.nonzero(wrong)[0]
                self._report(src, rows, lines=lines,
                             columns=np.full(n, labels[scol], dtype=object),
                             values=s_u[s_f].astype(object),
                             messages=np.full(n, "The session must be AM or PM.", dtype=object),
                             cells=cells_for(np.full(n, scol)))
                bad |= wrong
        else:
            session = frame["session"].to_numpy(dtype=np.int8)

        # UPN
        upn_f, upn_u = _factorize(frame["upn"])
        upn_norm_u, pid_u, upn_msg_u = self._upns(upn_u)
        pupil_id = pid_u[upn_f]
        wrong = pupil_id < 0
        if wrong.any():
            ucol = COL_UPN_CTF if is_ctf else table.roles["upn"]
            rows = np.nonzero(wrong)[0]
            self._report(src, rows, lines=lines,
                         columns=np.full(n, labels[ucol] if not is_ctf else "UPN", dtype=object),
                         values=upn_u[upn_f].astype(object), messages=upn_msg_u[upn_f],
                         cells=cells_for(np.full(n, ucol)))
            bad |= wrong

        # Date
        if "day" in frame.columns:
            day = frame["day"].to_numpy(dtype=np.int64)
            date_col_label = code_col_label
            date_lines = np.full(n, header_line, dtype=object) if not is_ctf else lines
            date_cols = cols
        else:
            d_f, d_u = _factorize(frame["date"])
            day = self._days(d_u)[d_f]
            dcol = table.roles["date"]
            date_col_label = np.full(n, labels[dcol], dtype=object)
            date_lines = lines
            date_cols = np.full(n, dcol)
            wrong = (day < 0) & ~bad
            if wrong.any():
                rows = np.nonzero(wrong)[0]
                values = d_u[d_f].astype(object)
                self._report(src, rows, lines=lines, columns=date_col_label,
                             values=np.array([_str(v) for v in values], dtype=object),
                             messages=np.full(n, "This is not a date. Write dates as dd/mm/yyyy "
                                                 "(e.g. 02/09/2025) or yyyy-mm-dd.",
                                              dtype=object),
                             cells=cells_for(date_cols))
                bad |= wrong

        # School
        if "school" in frame.columns:
            kind = frame.attrs.get("school_kind", "urn")
            sc_f, sc_u = _factorize(frame["school"])
            sid_u, sc_msg_u = self._schools(sc_u, kind)
            school_id = sid_u[sc_f]
            wrong = (school_id < 0) & ~bad
            if wrong.any():
                if is_ctf:
                    sc_label, sc_cols = "LEA+Estab", cols
                else:
                    scol = table.roles.get("urn", table.roles.get("laestab"))
                    sc_label, sc_cols = labels[scol], np.full(n, scol)
                rows = np.nonzero(wrong)[0]
                self._report(src, rows, lines=lines, columns=np.full(n, sc_label, dtype=object),
                             values=sc_u[sc_f].astype(object), messages=sc_msg_u[sc_f],
                             cells=cells_for(sc_cols))
                bad |= wrong
        else:
            if self.default_school is None:
                raise FileRejected(
                    f"'{source.name}' does not say which school it is for. Choose the school "
                    "(URN) for the import, or add a URN or LAEstab column.",
                    line=header_line, column="URN")
            school_id = np.full(n, self.default_school.id, dtype=np.int64)

        # Day status (future, weekend, no term dates, holidays, half term, closures)
        day_f, day_u = pd.factorize(day)
        st_u, st_msg_u = self._status_of(day_u)
        status = st_u[day_f]
        is_hash = code_text == "#"
        if (is_hash & (status != OK)).any():
            # '#' (no session / planned closure) on a day without sessions says nothing: drop it.
            drop = is_hash & (status != OK) & ~bad
            self.hash_dropped += int(drop.sum())
            self.marks_read -= int(drop.sum())
            bad_keep = ~drop
        else:
            bad_keep = None
        wrong = (status != OK) & ~bad & ~is_hash
        if wrong.any():
            rows = np.nonzero(wrong)[0]
            msgs = st_msg_u[day_f].astype(object)
            if is_ctf:
                msgs = _mark_prefix(day, session, code_text) + msgs
            self._report(src, rows, lines=date_lines, columns=date_col_label,
                         values=(code_text if is_ctf else _day_text(day)),
                         messages=msgs, cells=cells_for(date_cols, date_lines))
            bad |= wrong
        # School-specific closure days
        if self.calendar.school_closures:
            sc_key = list(self.calendar.school_closures)
            closed_key = np.array([s * 100000 + d for s, d in sc_key], dtype=np.int64)
            closed = np.isin(school_id * 100000 + day, closed_key) & ~bad & ~is_hash
            if closed.any():
                rows = np.nonzero(closed)[0]
                msgs = np.array([
                    f"{fmt_day(day[r])} is a closure day at this school "
                    f"({self.calendar.school_closures[(int(school_id[r]), int(day[r]))]}); "
                    "there are no sessions to mark." for r in rows], dtype=object)
                full = np.full(n, "", dtype=object)
                full[rows] = msgs
                self._report(src, rows, lines=date_lines, columns=date_col_label,
                             values=_day_text(day), messages=full,
                             cells=cells_for(date_cols, date_lines))
                bad |= closed

        # Codes: known, and in force in the date's academic year
        ok_so_far = ~bad
        unknown = (code_idx == 0) & ok_so_far
        if unknown.any():
            rows = np.nonzero(unknown)[0]
            hint = (" A CTF marks string has one character per session, so two-character "
                    "codes (C1, J1, Y1…) cannot be read from it; re-export with single-"
                    "character codes or use a CSV." if is_ctf else
                    " Leave the cell blank if there is no mark.")
            msgs = (_mark_prefix(day, session, code_text)
                    + "'" + code_text + "' is not a register code. Use a DfE code: "
                    + self.codes.list_2024() + "." + hint)
            self._report(src, rows, lines=lines, columns=code_col_label,
                         values=raw_code.astype(object) if not is_ctf else code_text,
                         messages=msgs, cells=cells_for(cols))
            bad |= unknown
        year = academic_year_of_days(np.maximum(day_u, 0))[day_f]  # per distinct day
        out_of_years = ((year < self.codes.first_year[code_idx])
                        | (year > self.codes.last_year[code_idx])) & ~bad
        if out_of_years.any():
            rows = np.nonzero(out_of_years)[0]
            msgs = np.full(n, "", dtype=object)
            for r in rows:
                c = code_text[r]
                i = self.codes.index[c]
                if self.codes.last_year[i] != 9999:
                    why = (f"'{c}' was withdrawn after {ay_label(int(self.codes.last_year[i]))}"
                           f" ({self.codes.meaning[c]}); use the code in force on "
                           f"{fmt_day(day[r])}.")
                else:
                    why = (f"'{c}' came into force in {ay_label(int(self.codes.first_year[i]))}"
                           f" and cannot be used on {fmt_day(day[r])}; use the code in force "
                           "then.")
                msgs[r] = _mark_prefix(day[r:r + 1], session[r:r + 1], code_text[r:r + 1])[0] + why
            self._report(src, rows, lines=lines, columns=code_col_label,
                         values=raw_code.astype(object), messages=msgs, cells=cells_for(cols))
            bad |= out_of_years

        # On roll at this school on this day (Z, "not on roll", needs no enrolment)
        check = ~bad & (code_text != "Z")
        if check.any():
            self._load_enrolments(np.unique(pupil_id[check]))
            idx = np.nonzero(check)[0]
            rows_df = pd.DataFrame({"i": idx, "pupil_id": pupil_id[idx],
                                    "school_id": school_id[idx], "day": day[idx]})
            merged = rows_df.merge(self.enrol, on=["pupil_id", "school_id"], how="inner")
            on = merged["i"].to_numpy()[((merged["start"] <= merged["day"])
                                         & (merged["day"] <= merged["end"])).to_numpy()]
            on_roll = np.zeros(n, dtype=bool)
            on_roll[on] = True
            off = check & ~on_roll
            if off.any():
                rows = np.nonzero(off)[0]
                msgs = np.full(n, "", dtype=object)
                pair_f, pair_u = pd.factorize(pupil_id[rows] * 100000 + school_id[rows])
                texts = []
                for key in pair_u:
                    pid, sid = int(key // 100000), int(key % 100000)
                    texts.append(self._roll_text(pid, sid))
                msgs[rows] = (np.asarray(texts, dtype=object)[pair_f]
                              + " on " + _day_text(day[rows]) + ". " + ROLL_FIX)
                roll_cols = date_col_label if "day" not in frame.columns else code_col_label
                self._report(src, rows, lines=lines, columns=roll_cols,
                             values=(_day_text(day) if "day" not in frame.columns
                                     else raw_code.astype(object)),
                             messages=msgs, cells=cells_for(date_cols if "day" not in
                                                            frame.columns else cols))
                bad |= off

        if bad_keep is not None:
            keep_bad = bad & bad_keep
        else:
            keep_bad = bad
        self.rejected += int(keep_bad.sum())
        good = ~bad if bad_keep is None else (~bad & bad_keep)
        if not good.any():
            return
        self._keep(src, pupil_id[good], school_id[good], day[good], session[good],
                   code_idx[good], lines[good], cols[good])

    def _roll_text(self, pupil_id: int, school_id: int) -> str:
        upn = self.upn_of.get(pupil_id, "?")
        school = self.schools.label.get(school_id, str(school_id))
        spans = self.enrol[(self.enrol.pupil_id == pupil_id) & (self.enrol.school_id == school_id)]
        if spans.empty:
            return f"Pupil {upn} has no enrolment at {school}, so was not on its roll"
        parts = [f"{fmt_day(s)}–{'' if e >= 36000 else fmt_day(e)}"
                 for s, e in zip(spans.start, spans.end, strict=True)]
        return (f"Pupil {upn} is on the roll of {school} only for {', '.join(parts)}, so was not "
                "on it")

    def _keep(self, src, pupil_id, school_id, day, session, code, line, col) -> None:
        # Dense indexes for pupils and schools, then one int64 key per mark.
        p_f, p_u = pd.factorize(pupil_id)
        p_map = np.empty(len(p_u), dtype=np.int64)
        for i, pid in enumerate(p_u):
            j = self.pupil_index.get(int(pid))
            if j is None:
                j = self.pupil_index[int(pid)] = len(self.pupil_list)
                self.pupil_list.append(int(pid))
            p_map[i] = j
        s_f, s_u = pd.factorize(school_id)
        s_map = np.empty(len(s_u), dtype=np.int64)
        for i, sid in enumerate(s_u):
            j = self.school_index.get(int(sid))
            if j is None:
                j = self.school_index[int(sid)] = len(self.school_list)
                self.school_list.append(int(sid))
            s_map[i] = j
        if len(self.pupil_list) >= _MAX_PUPILS or len(self.school_list) >= _MAX_SCHOOLS:
            raise FileRejected("The file holds more pupils or schools than one import accepts; "
                               "split it.")
        if day.min() < 0 or day.max() >= _MAX_DAY:
            raise FileRejected("Dates before 2000 or after 2044 cannot be imported.")
        key = ((((((p_map[p_f] << _SCHOOL_BITS) | s_map[s_f]) << _DAY_BITS | day)
                 << _SESSION_BITS) | session.astype(np.int64)) << _CODE_BITS) \
            | code.astype(np.int64)
        self.acc.keys.append(key)
        self.acc.lines.append(line.astype(np.int32))
        self.acc.cols.append(col.astype(np.int16))
        self.acc.srcs.append(np.full(len(key), src, dtype=np.int16))

    # --- summary rows ---------------------------------------------------------------------

    def check_summary(self, src: int, frame: pd.DataFrame) -> None:
        source, table = self.sources[src]
        n = len(frame)
        if not n:
            return
        self.summary_rows += n
        labels = np.asarray(table.labels, dtype=object)
        roles = table.roles
        lines = frame["line"].to_numpy(dtype=np.int64)
        bad = np.zeros(n, dtype=bool)

        def cells(role):
            if not table.is_xlsx:
                return None
            from attendance.importers.reading import excel_column

            return (excel_column(roles[role]) + lines.astype(str)).astype(object)

        def col(role):
            return np.full(n, labels[roles[role]], dtype=object)

        upn_f, upn_u = _factorize(frame["upn"])
        _, pid_u, msg_u = self._upns(upn_u)
        pupil_id = pid_u[upn_f]
        wrong = pupil_id < 0
        self._report(src, np.nonzero(wrong)[0], lines=lines, columns=col("upn"),
                     values=upn_u[upn_f].astype(object), messages=msg_u[upn_f], cells=cells("upn"))
        bad |= wrong
        if "school" in frame.columns:
            sc_f, sc_u = _factorize(frame["school"])
            sid_u, sc_msg = self._schools(sc_u, frame.attrs.get("school_kind", "urn"))
            school_id = sid_u[sc_f]
            role = "urn" if "urn" in roles else "laestab"
            wrong = (school_id < 0) & ~bad
            self._report(src, np.nonzero(wrong)[0], lines=lines, columns=col(role),
                         values=sc_u[sc_f].astype(object), messages=sc_msg[sc_f],
                         cells=cells(role))
            bad |= wrong
        elif self.default_school is None:
            raise FileRejected(f"'{source.name}' does not say which school it is for. Choose the "
                               "school (URN) for the import, or add a URN column.",
                               line=table.table.header_line, column="URN")
        else:
            school_id = np.full(n, self.default_school.id, dtype=np.int64)
        days = {}
        for role in ("date_from", "date_to"):
            d_f, d_u = _factorize(frame[role])
            days[role] = self._days(d_u)[d_f]
            wrong = (days[role] < 0) & ~bad
            self._report(src, np.nonzero(wrong)[0], lines=lines, columns=col(role),
                         values=np.array([_str(v) for v in d_u[d_f]], dtype=object),
                         messages=np.full(n, "This is not a date. Write dates as dd/mm/yyyy or "
                                             "yyyy-mm-dd.", dtype=object), cells=cells(role))
            bad |= wrong
        counts = {}
        for role in ("possible", "attended", "authorised", "unauthorised"):
            values = pd.to_numeric(pd.Series(frame[role].to_numpy(dtype=object)).map(_str)
                                   .str.strip(), errors="coerce").to_numpy()
            wrong = (np.isnan(values) | (values < 0) | (values != np.floor(values))) & ~bad
            self._report(src, np.nonzero(wrong)[0], lines=lines, columns=col(role),
                         values=frame[role].map(_str).to_numpy(dtype=object),
                         messages=np.full(n, "This must be a whole number of sessions (0 or "
                                             "more).", dtype=object), cells=cells(role))
            bad |= wrong
            counts[role] = np.nan_to_num(values).astype(np.int64)
        order = (days["date_to"] < days["date_from"]) & ~bad
        self._report(src, np.nonzero(order)[0], lines=lines, columns=col("date_to"),
                     values=_day_text(days["date_to"]),
                     messages=np.full(n, "The period ends before it starts; check the From and "
                                         "To dates.", dtype=object), cells=cells("date_to"))
        bad |= order
        adds = (counts["attended"] + counts["authorised"] + counts["unauthorised"]
                != counts["possible"]) & ~bad
        self._report(src, np.nonzero(adds)[0], lines=lines, columns=col("possible"),
                     values=counts["possible"].astype(str).astype(object),
                     messages=("Possible (" + counts["possible"].astype(str).astype(object)
                               + ") must equal attended + authorised + unauthorised ("
                               + (counts["attended"] + counts["authorised"]
                                  + counts["unauthorised"]).astype(str).astype(object)
                               + "). Check the counts."), cells=cells("possible"))
        bad |= adds
        future = (days["date_to"] > self.calendar.today.toordinal() - EPOCH_ORDINAL) & ~bad
        self._report(src, np.nonzero(future)[0], lines=lines, columns=col("date_to"),
                     values=_day_text(days["date_to"]),
                     messages=np.full(n, "The period ends in the future; summaries can only "
                                         "cover days that have happened.", dtype=object),
                     cells=cells("date_to"))
        bad |= future
        # On roll at some point in the period
        check = ~bad
        if check.any():
            self._load_enrolments(np.unique(pupil_id[check]))
            idx = np.nonzero(check)[0]
            rows_df = pd.DataFrame({"i": idx, "pupil_id": pupil_id[idx],
                                    "school_id": school_id[idx],
                                    "f": days["date_from"][idx], "t": days["date_to"][idx]})
            merged = rows_df.merge(self.enrol, on=["pupil_id", "school_id"], how="inner")
            on = merged["i"].to_numpy()[((merged["start"] <= merged["t"])
                                         & (merged["f"] <= merged["end"])).to_numpy()]
            off = check.copy()
            off[on] = False
            if off.any():
                rows = np.nonzero(off)[0]
                msgs = np.full(n, "", dtype=object)
                msgs[rows] = [f"{self._roll_text(int(pupil_id[r]), int(school_id[r]))} in this "
                              f"period. {ROLL_FIX}" for r in rows]
                self._report(src, rows, lines=lines, columns=col("date_from"),
                             values=_day_text(days["date_from"]), messages=msgs,
                             cells=cells("date_from"))
                bad |= off
        self.rejected += int(bad.sum())
        good = ~bad
        if good.any():
            part = pd.DataFrame({
                "pupil_id": pupil_id[good], "school_id": school_id[good],
                "date_from": days["date_from"][good], "date_to": days["date_to"][good],
                "possible": counts["possible"][good], "attended": counts["attended"][good],
                "authorised": counts["authorised"][good],
                "unauthorised": counts["unauthorised"][good], "line": lines[good],
                "src": np.full(int(good.sum()), src)})
            self.summary_parts.append(part)

    # --- the end of the file(s) -----------------------------------------------------------

    def finish(self) -> FinishedMarks:
        """Merge the chunks: drop exact repeats, reject sessions given two different codes, and
        pivot to one row per pupil, school and day. Memory: the keys once unsorted and once
        sorted (8 bytes a mark each) plus the line numbers, kept only until we know whether any
        session conflicts."""
        acc = self.acc
        if not acc.keys:
            return FinishedMarks.empty(self.codes.codes)
        unsorted = np.concatenate(acc.keys)
        acc.keys.clear()
        keys = np.sort(unsorted, kind="quicksort")
        n = len(keys)
        session_keys = keys >> _CODE_BITS
        same_mark = np.equal(session_keys[1:], session_keys[:-1])
        del session_keys
        same_code = np.equal(keys[1:], keys[:-1])
        conflict_at = np.flatnonzero(same_mark & ~same_code)
        conflicting_marks = 0
        keep = np.ones(n, dtype=bool)
        keep[1:] = ~same_mark  # the first mark of each session
        if len(conflict_at):
            bad_marks = np.unique(keys[conflict_at] >> _CODE_BITS)
            positions = np.flatnonzero(np.isin(unsorted >> _CODE_BITS, bad_marks))
            self._report_conflicts(unsorted[positions], np.concatenate(acc.lines)[positions],
                                   np.concatenate(acc.cols)[positions],
                                   np.concatenate(acc.srcs)[positions])
            in_conflict = np.isin(keys >> _CODE_BITS, bad_marks)
            conflicting_marks = int(in_conflict.sum())
            same_code &= ~in_conflict[1:]
            keep &= ~in_conflict
            del in_conflict
        exact_repeats = int(same_code.sum())
        del same_code
        if not keep.all():
            keys = keys[keep]
        del keep
        del unsorted, same_mark
        acc.lines.clear()
        acc.cols.clear()
        acc.srcs.clear()
        self.rejected += conflicting_marks
        if exact_repeats:
            self.issues.warning({
                "file": "", "line": None, "column": "", "value": str(exact_repeats),
                "message": f"{exact_repeats} marks repeat a mark given earlier in the file "
                           "(same pupil, date, session and code). Exact repeats are harmless: "
                           "each was counted once."})
        return FinishedMarks.from_keys(keys, self)

    def _report_conflicts(self, keys, lines, cols, srcs) -> None:
        """keys/lines/cols/srcs: every mark of a conflicting session, in file order."""
        marks = keys >> _CODE_BITS
        order = np.lexsort((np.arange(len(keys)), marks))  # by session, then file order
        budget = max(self.issues.cap - len(self.issues.errors), 0)
        reported = 0
        first = None
        mask = (1 << _CODE_BITS) - 1
        for i in order:
            if first is None or marks[i] != marks[first]:
                first = i
                continue
            code = self.codes.codes[int(keys[i]) & mask]
            first_code = self.codes.codes[int(keys[first]) & mask]
            if code == first_code:
                continue  # an exact repeat of the first inside a conflicting session
            reported += 1
            if reported > budget:
                continue
            source, table = self.sources[int(srcs[i])]
            mark = int(marks[i])
            session = mark & 1
            day = (mark >> _SESSION_BITS) & (_MAX_DAY - 1)
            pupil = self.pupil_list[mark >> (_SESSION_BITS + _DAY_BITS + _SCHOOL_BITS)]
            where = (f"line {int(lines[first])}" if srcs[first] == srcs[i]
                     else f"line {int(lines[first])} of {self.sources[int(srcs[first])][0].name}")
            self.issues.error(source.issue(
                line=int(lines[i]), column=table.label(int(cols[i])), value=code,
                cell=table.cell(int(cols[i]), int(lines[i])),
                message=(f"Pupil {self.upn_of.get(pupil, '?')}, {fmt_day(day)} "
                         f"{'PM' if session else 'AM'}: '{code}' here but '{first_code}' on "
                         f"{where}. A session can have only one mark: keep the right one and "
                         "delete the other. Neither was imported.")))
        if reported > budget:
            self.issues.error_count += reported - budget

    def legacy_usage(self, finished: FinishedMarks) -> list[dict]:
        if not finished.rows:
            return []
        legacy_idx = {self.codes.index[c]: c for c in self.codes.legacy if c in self.codes.index}
        if not legacy_idx:
            return []
        out = []
        years = academic_year_of_days(finished.day)
        for session_codes in (finished.am, finished.pm):
            mask = np.isin(session_codes, list(legacy_idx))
            if not mask.any():
                continue
            for (code, year), count in pd.Series(1, index=pd.MultiIndex.from_arrays(
                    [session_codes[mask], years[mask]])).groupby(level=[0, 1]).sum().items():
                out.append((legacy_idx[int(code)], int(year), int(count)))
        merged: dict[tuple, int] = {}
        for code, year, count in out:
            mapping = self.codes.legacy[code]
            if year > mapping["last_year"]:
                continue
            merged[(code, year)] = merged.get((code, year), 0) + count
        return [{"code": code, "academic_year": ay_label(year), "marks": count,
                 "stored_as": self.codes.legacy[code]["stored_as"],
                 "meaning_then": self.codes.legacy[code]["meaning_then"],
                 "note": self.codes.legacy[code]["note"]}
                for (code, year), count in sorted(merged.items())]


COL_UPN_CTF = 0
ROLL_FIX = ("Check the UPN and date, or ask the LA data team to update the pupil's "
            "enrolment in the roster.")


def _day_text(days: np.ndarray) -> np.ndarray:
    f, u = pd.factorize(days)
    texts = np.array([fmt_day(d) if d >= 0 else "" for d in u], dtype=object)
    return texts[f]


def _mark_prefix(day, session, code_text) -> np.ndarray:
    return (_day_text(day) + " " + SESSION_LABEL[session.astype(np.int64)] + ": ").astype(object)


@dataclass
class FinishedMarks:
    """The marks to load: one row per pupil, school and day, AM/PM as indexes into ``codes``."""

    pupil_id: np.ndarray
    school_id: np.ndarray
    day: np.ndarray
    am: np.ndarray
    pm: np.ndarray
    codes: list[str]

    @property
    def rows(self) -> int:
        return len(self.pupil_id)

    @property
    def marks(self) -> int:
        return int((self.am > 0).sum() + (self.pm > 0).sum())

    @classmethod
    def empty(cls, codes) -> FinishedMarks:
        z = np.array([], dtype=np.int64)
        return cls(z, z, z.astype(np.int32), z.astype(np.uint8), z.astype(np.uint8), codes)

    @classmethod
    def from_keys(cls, keys: np.ndarray, v: Validator) -> FinishedMarks:
        """keys: sorted, one per session. Pivot to rows (AM, PM) with few temporaries."""
        codes = (keys & ((1 << _CODE_BITS) - 1)).astype(np.uint8)
        keys >>= _CODE_BITS  # now the session key (in place: keys is ours)
        pm_mark = (keys & 1).astype(bool)
        keys >>= _SESSION_BITS  # now the row key (pupil, school, day)
        new_row = np.empty(len(keys), dtype=bool)
        new_row[0] = True
        np.not_equal(keys[1:], keys[:-1], out=new_row[1:])
        row = np.cumsum(new_row, dtype=np.int32) - 1
        n = int(row[-1]) + 1
        am = np.zeros(n, dtype=np.uint8)
        pm = np.zeros(n, dtype=np.uint8)
        am[row[~pm_mark]] = codes[~pm_mark]
        pm[row[pm_mark]] = codes[pm_mark]
        del row, codes, pm_mark
        rk = keys[new_row]
        del keys, new_row
        day = (rk & (_MAX_DAY - 1)).astype(np.int32)
        pupil_id = np.asarray(v.pupil_list, dtype=np.int64)[rk >> (_DAY_BITS + _SCHOOL_BITS)]
        school_id = np.asarray(v.school_list, dtype=np.int64)[(rk >> _DAY_BITS)
                                                              & (_MAX_SCHOOLS - 1)]
        del rk
        # Load in index order (pupil, date, school): btree inserts then go to neighbouring pages.
        order = np.lexsort((school_id, day, pupil_id))
        if not (order[1:] > order[:-1]).all():
            pupil_id, school_id, day = pupil_id[order], school_id[order], day[order]
            am, pm = am[order], pm[order]
        return cls(pupil_id, school_id, day, am, pm, v.codes.codes)


__all__ = ["Validator", "FinishedMarks", "day_to_date"]
