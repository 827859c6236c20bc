"""Register imports: read a file (CSV, XLSX, CTF XML, or a .zip of them), check every mark, and
hand back the valid marks as compact arrays with a report of the rest.

    read_register(path=..., filename=..., school=..., allowed_school_ids=..., today=...)

Parsing never writes to the database; loading is ``attendance.loading``, called by
``attendance.services.register_import_apply``. See docs/formats.md for what is accepted.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from attendance.importers.ctf import CtfReader
from attendance.importers.formats import FORMAT_LABELS, is_header, recognise
from attendance.importers.issues import FileRejected, IssueLog, Source
from attendance.importers.reading import open_inputs, read_table
from attendance.importers.validate import FinishedMarks, Validator, fmt_day


@dataclass
class ReadResult:
    formats: list[str]
    rows: int
    marks: int
    rejected: int
    issues: IssueLog
    finished: FinishedMarks
    summaries: pd.DataFrame | None
    legacy: list[dict]
    file_rejected: bool
    school_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def format(self) -> str:
        return "+".join(dict.fromkeys(self.formats)) or "unknown"


def read_register(*, path: Path, filename: str, school=None,
                  allowed_school_ids: set[int] | None = None, today: date,
                  cap: int = 1000) -> ReadResult:
    issues = IssueLog(cap=cap)
    validator = Validator(school=school, allowed_school_ids=allowed_school_ids, today=today,
                          issues=issues)
    formats: list[str] = []
    rows = 0
    extra_rejected = 0
    current = filename
    file_rejected = False
    finished = FinishedMarks.empty(validator.codes.codes)
    summaries = None
    with tempfile.TemporaryDirectory(prefix="register-import-") as workdir:
        try:
            for inp in open_inputs(Path(path), filename, Path(workdir)):
                current = inp.name
                if inp.kind == "xml":
                    only = (f"{school.la_code}{school.establishment_number}"
                            if school is not None else None)
                    reader = CtfReader(path=inp.path, source=Source(inp.name), issues=issues,
                                       possible_codes=validator.codes.possible_single_chars,
                                       only_laestab=only,
                                       known_laestab=set(validator.schools.by_laestab))
                    src = validator.add_source(reader.source, reader)
                    for frame in reader.frames():
                        validator.check_marks(src, frame)
                    rows += reader.rows_read
                    extra_rejected += reader.rejected_marks
                    formats.append("ctf")
                    continue
                table = read_table(inp, is_header)
                marks_table = recognise(table, issues)
                formats.append(marks_table.format)
                src = validator.add_source(marks_table.source, marks_table)
                for frame in marks_table.frames():
                    if marks_table.format == "summary":
                        validator.check_summary(src, frame)
                    else:
                        validator.check_marks(src, frame)
                rows += table.rows_read
            finished = validator.finish()
            summaries = _finish_summaries(validator)
        except FileRejected as exc:
            file_rejected = True
            issues.error({"file": current, "line": exc.line, "column": exc.column,
                          "value": exc.value, "message": exc.message})
    if not file_rejected and rows == 0 and not issues.error_count:
        file_rejected = True
        issues.error({"file": filename, "line": None, "column": "", "value": "",
                      "message": f"'{filename}' has a header but no data rows: there is "
                                 "nothing to import."})
    notes = []
    if validator.hash_dropped:
        notes.append(f"{validator.hash_dropped} '#' marks on days without sessions (weekends, "
                     "holidays, closures) were skipped: they record that there was no session.")
    school_ids = sorted(set(np.unique(finished.school_id).tolist())
                        | (set(summaries.school_id.unique().tolist())
                           if summaries is not None else set()))
    return ReadResult(
        formats=formats, rows=rows, marks=validator.marks_read + extra_rejected,
        rejected=validator.rejected + extra_rejected, issues=issues, finished=finished,
        summaries=summaries, legacy=validator.legacy_usage(finished),
        file_rejected=file_rejected, school_ids=school_ids, notes=notes,
    )


def _finish_summaries(v: Validator) -> pd.DataFrame | None:
    if not v.summary_parts:
        return None
    frame = pd.concat(v.summary_parts, ignore_index=True)
    v.summary_parts.clear()
    key = ["pupil_id", "school_id", "date_from", "date_to"]
    values = ["possible", "attended", "authorised", "unauthorised"]
    dup_key = frame.duplicated(subset=key, keep=False)
    if dup_key.any():
        groups = frame[dup_key].groupby(key)
        bad_keys = []
        for k, group in groups:
            if len(group.drop_duplicates(subset=values)) > 1:
                bad_keys.append(k)
                first = group.iloc[0]
                for rec in group.iloc[1:].itertuples():
                    source, _ = v.sources[int(rec.src)]
                    v.issues.error(source.issue(
                        line=int(rec.line), column="Possible", value="",
                        message=(f"Pupil {v.upn_of.get(int(rec.pupil_id), '?')}, "
                                 f"{fmt_day(rec.date_from)}–{fmt_day(rec.date_to)}: these counts "
                                 f"differ from line {int(first.line)} for the same period. Keep "
                                 "one row per pupil and period. Neither was imported.")))
        if bad_keys:
            bad = frame.set_index(key).index.isin(bad_keys)
            v.rejected += int(bad.sum())
            frame = frame[~bad]
        frame = frame.drop_duplicates(subset=key)
    return frame.reset_index(drop=True)


__all__ = ["read_register", "ReadResult", "FileRejected", "FORMAT_LABELS"]
