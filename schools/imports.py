"""Reading tabular files for the school and roster imports, and the report they return.

Shared by ``schools.services`` (GIAS) and ``pupils.services`` (rosters): decoding (UTF-8 with or
without BOM, else Windows-1252), CSV or XLSX by content, header matching that ignores case,
spaces and punctuation, and line numbers that match what the user sees in a text editor
(header = line 1) or a spreadsheet (header = row 1).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from attendance_portal.errors import ApplicationError

XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or rejection, would have done)."""

    source: str = ""
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    written: bool = False
    changes: list[dict] = field(default_factory=list)  # one per created/updated row, for previews

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def error(self, line: int, reason: str) -> None:
        self.errors.append(RowError(line, reason))

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [f"{self.rows} rows read"]
        parts += [f"{value} {key}" for key, value in self.counts.items()]
        if self.errors:
            parts.append(f"{len(self.errors)} bad rows")
        return ", ".join(parts)

    def lines(self) -> list[str]:
        out = [f"{self.source}: {self.summary()}" if self.source else self.summary()]
        out += [f"  warning: {w}" for w in self.warnings]
        out += [f"  error: {e}" for e in sorted(self.errors, key=lambda e: e.line)]
        if not self.written:
            out.append("  nothing was written")
        return out


class ImportRejected(ApplicationError):
    """The file had bad rows (or could not be read) and nothing was written."""

    def __init__(self, report: ImportReport, message: str | None = None):
        first = sorted(report.errors, key=lambda e: e.line)[:5]
        message = message or (
            f"{len(report.errors)} bad row(s); nothing was imported. "
            + "; ".join(str(e) for e in first)
            + ("; …" if len(report.errors) > len(first) else "")
        )
        super().__init__(message, extra={"errors": [str(e) for e in report.errors]})
        self.report = report


def run_import_command(command, run, *, dry_run: bool) -> None:
    """Run an import for a management command: the report to stdout, a rejection's bad rows to
    stderr and a CommandError (non-zero exit) for a rejected or unreadable file."""
    from django.core.management.base import CommandError

    try:
        report = run()
    except ImportRejected as exc:
        for line in exc.report.lines():
            command.stderr.write(line)
        raise CommandError(exc.message) from exc
    except (ApplicationError, OSError) as exc:
        raise CommandError(str(getattr(exc, "message", exc))) from exc
    for line in report.lines():
        command.stdout.write(line)
    if dry_run:
        command.stdout.write("dry run: nothing was written")


class RollbackDryRun(Exception):
    """Raised inside the transaction to undo a dry run; never escapes a service."""


def normalise_header(name: object) -> str:
    """'Legal Surname' → 'legalsurname'; 'LA (code)' → 'lacode'; '\\ufeffUPN' → 'upn'."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) if it decodes, else Windows-1252 (what GIAS and Excel write)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_table(source, *, filename: str = "") -> tuple[pd.DataFrame, int]:
    """Read a CSV or XLSX file into a frame of strings; returns (frame, line of first data row).

    ``source`` is a path, bytes, a binary file object, a DataFrame or a tablib Dataset. Empty
    cells are ''. The frame's index is the file line (or spreadsheet row) of each data row, so
    blank lines are skipped without shifting the line numbers reported to the user.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.index = range(2, len(frame) + 2)
        return _clean(frame)
    if hasattr(source, "headers") and hasattr(source, "dict"):  # tablib.Dataset (admin)
        frame = pd.DataFrame(list(source), columns=source.headers)
        frame.index = range(2, len(frame) + 2)
        return _clean(frame)
    if isinstance(source, str | Path):
        filename = filename or str(source)
        data = Path(source).read_bytes()
    elif isinstance(source, bytes):
        data = source
    else:
        data = source.read()
    if data.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        try:
            frame = pd.read_excel(io.BytesIO(data), dtype=str, keep_default_na=False,
                                  engine="openpyxl")
        except Exception as exc:  # a corrupt or password-protected workbook
            raise ApplicationError(f"Could not read the spreadsheet: {exc}") from exc
    else:
        text = decode_text(data)
        header = text.split("\n", 1)[0]
        sep = max([",", "\t", ";"], key=header.count)
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                                skip_blank_lines=False, sep=sep)
        except (pd.errors.ParserError, csv.Error) as exc:
            raise ApplicationError(f"Could not read the CSV file: {exc}") from exc
        except pd.errors.EmptyDataError as exc:
            raise ApplicationError("The file is empty.") from exc
    frame.index = range(2, len(frame) + 2)
    return _clean(frame)


def _clean(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    frame = frame.fillna("").astype(str)
    frame = frame.apply(lambda col: col.str.strip())
    # Excel exports turn whole numbers into '113501.0' and dates into '2015-03-14 00:00:00'.
    frame = frame.replace({r"^(\d+)\.0$": r"\1", r"^(\d{4}-\d{2}-\d{2}) 00:00:00$": r"\1"},
                          regex=True)
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    blank = (frame == "").all(axis=1)
    return frame[~blank], 2


def pick_columns(frame: pd.DataFrame, synonyms: dict[str, list[str]]) -> dict[str, str]:
    """Map our field names to the file's column names; the first synonym present wins."""
    by_norm: dict[str, str] = {}
    for column in frame.columns:
        by_norm.setdefault(normalise_header(column), column)
    found = {}
    for key, names in synonyms.items():
        for name in names:
            if normalise_header(name) in by_norm:
                found[key] = by_norm[normalise_header(name)]
                break
    return found


def parse_dates(values: pd.Series) -> pd.Series:
    """dd/mm/yyyy (also dd-mm-yyyy, dd.mm.yyyy) or ISO yyyy-mm-dd; anything else is NaT.

    Never month-first: an English MIS writes day first, and guessing would swap 03/04.
    """
    text = values.astype(str).str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    iso = text.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}")
    dmy = text.str.fullmatch(r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}")
    if iso.any():
        out[iso] = pd.to_datetime(text[iso], format="%Y-%m-%d", errors="coerce")
    if dmy.any():
        normal = text[dmy].str.replace(r"[.\-]", "/", regex=True)
        out[dmy] = pd.to_datetime(normal, format="%d/%m/%Y", errors="coerce")
    return out
