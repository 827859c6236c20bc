"""The table formats: which columns mean what, and turning rows into one row per session mark.

Every format ends in the same "marks frame", one row per session mark:
``line`` (file line or sheet row), ``upn`` (as written), ``date`` (as written) or ``day``
(days since 2000-01-01, when the date came from a header), ``school`` (as written, optional),
``session`` (0 = AM, 1 = PM, or as written for the per-session format), ``code`` (as written) and
``col`` (index of the column the code came from). Validation reads only this shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from attendance.importers.issues import FileRejected, IssueLog, Source
from attendance.importers.reading import Table, excel_column, normalise_header

EPOCH = date(2000, 1, 1)
EPOCH_ORDINAL = EPOCH.toordinal()

# Header synonyms, compared in lower case with everything but letters and digits removed:
# "Attendance Date", "attendance_date" and "ATTENDANCE-DATE" are the same header.
SYNONYMS: dict[str, list[str]] = {
    "upn": ["upn", "uniquepupilnumber", "pupilupn", "pupilnumber"],
    "date": ["date", "attendancedate", "sessiondate", "registerdate", "markdate"],
    "am": ["am", "amcode", "ammark", "amsession", "morning", "morningmark"],
    "pm": ["pm", "pmcode", "pmmark", "pmsession", "afternoon", "afternoonmark"],
    "session": ["session", "ampm", "amorpm", "sessionname"],
    "mark": ["mark", "code", "attendancecode", "attendancemark", "sessionmark", "markcode"],
    "urn": ["urn", "schoolurn"],
    "laestab": ["laestab", "dfenumber", "dfeno", "dfe", "laestabnumber"],
    "date_from": ["from", "datefrom", "fromdate", "startdate", "periodstart"],
    "date_to": ["to", "dateto", "todate", "enddate", "periodend"],
    "possible": ["possible", "sessionspossible", "possiblesessions"],
    "attended": ["attended", "sessionsattended", "attendedsessions"],
    "authorised": ["authorised", "authorized", "authorisedabsence", "authorizedabsence",
                   "sessionsauthorised", "sessionsauthorized"],
    "unauthorised": ["unauthorised", "unauthorized", "unauthorisedabsence",
                     "unauthorizedabsence", "sessionsunauthorised", "sessionsunauthorized"],
}
_ROLE_OF = {syn: role for role, syns in SYNONYMS.items() for syn in syns}
SUMMARY_ROLES = ["date_from", "date_to", "possible", "attended", "authorised", "unauthorised"]

WIDE_HEADER = re.compile(
    r"^\s*(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    r"(\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?[\s_\-]*(am|pm)\s*$",
    re.IGNORECASE,
)

FORMAT_LABELS = {
    "long": "Long: one row per pupil per day (UPN, Date, AM, PM)",
    "per_session": "Long per session: one row per mark (UPN, Date, Session, Mark)",
    "wide": "Wide register grid: one row per pupil, a column per session",
    "ctf": "CTF XML (Common Transfer File)",
    "summary": "Summary rows: session counts per pupil and period",
}


def is_header(row: list[str]) -> bool:
    return any(_ROLE_OF.get(normalise_header(cell)) == "upn" for cell in row)


def parse_day(text: str) -> int | None:
    """dd/mm/yyyy or yyyy-mm-dd → days since 2000-01-01; None when not a real date."""
    text = text.strip()
    try:
        if "/" in text:
            d, m, y = text.split("/")
            value = date(int(y), int(m), int(d))
        else:
            value = date.fromisoformat(text[:10])
    except ValueError:
        return None
    return value.toordinal() - EPOCH_ORDINAL


@dataclass
class MarkTable:
    """A table whose rows are marks, with the columns that matter found."""

    table: Table
    source: Source
    format: str
    roles: dict[str, int]
    wide_columns: list[tuple[int, int, int]] = field(default_factory=list)  # (col, day, session)

    @property
    def labels(self) -> list[str]:
        return self.table.header

    @property
    def is_xlsx(self) -> bool:
        return self.table.sheet is not None

    def label(self, col: int) -> str:
        return self.table.header[col]

    def cell(self, col: int, line) -> str | None:
        return f"{excel_column(col)}{line}" if self.is_xlsx else None

    def frames(self):
        roles = self.roles
        if self.format == "wide":
            yield from self._wide_frames()
            return
        if self.format == "summary":
            cols = [roles["upn"]] + [roles[r] for r in SUMMARY_ROLES]
            cols += [roles[r] for r in ("urn", "laestab") if r in roles]
            for frame, lines in self.table.chunks(sorted(set(cols))):
                out = pd.DataFrame({"line": lines, "upn": frame[roles["upn"]].to_numpy()})
                for role in SUMMARY_ROLES:
                    out[role] = frame[roles[role]].to_numpy()
                _add_school(out, frame, roles)
                yield out
            return
        code_roles = ["am", "pm"] if self.format == "long" else ["mark"]
        cols = [roles["upn"], roles["date"]] + [roles[r] for r in code_roles if r in roles]
        cols += [roles[r] for r in ("urn", "laestab", "session") if r in roles]
        for frame, lines in self.table.chunks(sorted(set(cols))):
            parts = []
            # .array keeps categorical columns (CSV) categorical, so the AM and PM parts share
            # one UPN and one date column's categories and concatenating them copies codes only.
            codes = _same_categories([frame[roles[r]].array for r in code_roles if r in roles])
            for role, code in zip([r for r in code_roles if r in roles], codes, strict=True):
                part = pd.DataFrame({
                    "line": lines,
                    "upn": frame[roles["upn"]].array,
                    "date": frame[roles["date"]].array,
                    "code": code,
                })
                if self.format == "long":
                    part["session"] = np.int8(0 if role == "am" else 1)
                else:
                    part["session"] = frame[roles["session"]].array
                part["col"] = np.int32(roles[role])
                _add_school(part, frame, roles)
                parts.append(part)
            out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            yield out

    def _wide_frames(self):
        roles = self.roles
        cols = [c for c, _, _ in self.wide_columns]
        used = sorted(set([roles["upn"]] + cols + [roles[r] for r in ("urn", "laestab")
                                                   if r in roles]))
        days = np.array([d for _, d, _ in self.wide_columns], dtype=np.int32)
        sessions = np.array([s for _, _, s in self.wide_columns], dtype=np.int8)
        colidx = np.array(cols, dtype=np.int32)
        for frame, lines in self.table.chunks(used):
            n, k = len(frame), len(cols)
            grid = frame[cols].to_numpy(dtype=object).reshape(-1)
            keep = grid != ""
            out = pd.DataFrame({
                "line": np.repeat(lines, k)[keep],
                "upn": np.repeat(frame[roles["upn"]].to_numpy(dtype=object), k)[keep],
                "day": np.tile(days, n)[keep],
                "session": np.tile(sessions, n)[keep],
                "code": grid[keep],
                "col": np.tile(colidx, n)[keep],
            })
            for role in ("urn", "laestab"):
                if role in roles:
                    out["school"] = np.repeat(frame[roles[role]].to_numpy(dtype=object), k)[keep]
                    out.attrs["school_kind"] = role
            yield out


def _same_categories(arrays: list) -> list:
    """Categorical columns recoded onto the union of their categories (so they concatenate as
    one categorical); anything else unchanged."""
    if len(arrays) < 2 or not all(isinstance(a, pd.Categorical) for a in arrays):
        return arrays
    categories = arrays[0].categories
    for a in arrays[1:]:
        categories = categories.union(a.categories)
    return [a.set_categories(categories) for a in arrays]


def _add_school(out: pd.DataFrame, frame: pd.DataFrame, roles: dict[str, int]) -> None:
    for role in ("urn", "laestab"):
        if role in roles:
            out["school"] = frame[roles[role]].array
            out.attrs["school_kind"] = role
            return


def recognise(table: Table, issues: IssueLog) -> MarkTable:
    """Find the format from the header; FileRejected naming the missing column if none fits."""
    source = Source(table.source_name, table.sheet)
    roles: dict[str, int] = {}
    wide: list[tuple[int, int, int]] = []
    for index, label in enumerate(table.header):
        key = normalise_header(label)
        if not key:
            continue
        role = _ROLE_OF.get(key)
        if role:
            if role in roles:
                raise FileRejected(
                    f"Two columns are both read as '{role}': '{table.header[roles[role]]}' and "
                    f"'{label}'. Remove or rename one of them.",
                    line=table.header_line, column=label, value=label)
            roles[role] = index
            continue
        match = WIDE_HEADER.match(str(label))
        if match:
            day = parse_day(match.group(1))
            if day is None:
                issues.error(source.issue(
                    line=table.header_line, column=label, value=label,
                    cell=f"{excel_column(index)}{table.header_line}" if table.sheet else None,
                    message=f"The column header '{label}' is not a real date; use dd/mm/yyyy "
                            "AM or dd/mm/yyyy PM. The marks in this column were not read."))
                continue
            wide.append((index, day, 0 if match.group(2).lower() == "am" else 1))

    def missing(role: str, shape: str) -> FileRejected:
        names = ", ".join(f"'{s}'" for s in SYNONYMS[role][:4])
        return FileRejected(
            f"The {shape} needs a '{role.replace('_', ' ').title()}' column, and none was "
            f"found in the header row (line {table.header_line}). Accepted names: {names}.",
            line=table.header_line, column=role.replace("_", " ").title())

    if "urn" in roles and "laestab" in roles:
        raise FileRejected("The file has both a URN and a LAEstab column; keep one.",
                           line=table.header_line, column=table.header[roles["laestab"]])
    summary_found = [r for r in SUMMARY_ROLES if r in roles and r not in ("date_from", "date_to")]
    if summary_found:
        for role in SUMMARY_ROLES:
            if role not in roles:
                raise missing(role, "summary format")
        fmt = "summary"
    elif "session" in roles or "mark" in roles:
        for role in ("date", "session", "mark"):
            if role not in roles:
                raise missing(role, "per-session format (UPN, Date, Session, Mark)")
        fmt = "per_session"
    elif "am" in roles or "pm" in roles:
        if "date" not in roles:
            raise missing("date", "long format (UPN, Date, AM, PM)")
        fmt = "long"
    elif wide:
        fmt = "wide"
    else:
        raise FileRejected(
            "No mark columns were found. Use AM and PM columns (long format), Session and "
            "Mark columns (per session), or one column per session headed like "
            "'02/09/2025 AM' (register grid). See docs/formats.md.",
            line=table.header_line, column="AM")
    return MarkTable(table=table, source=source, format=fmt, roles=roles, wide_columns=wide)
