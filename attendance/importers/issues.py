"""Errors and warnings found in a register file, each pointing at a file, line and column."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_STORED = 1000


class FileRejected(Exception):
    """The file as a whole cannot be read (empty, wrong type, missing column...)."""

    def __init__(self, message: str, *, line=None, column: str = "", value: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.value = value


@dataclass
class Source:
    """One readable table: a CSV file, one XLSX sheet, or one CTF document."""

    name: str  # the file name as the user knows it (zip member name inside a zip)
    sheet: str | None = None

    def issue(self, *, line, column: str, value, message: str, cell: str | None = None) -> dict:
        out = {"file": self.name, "line": line, "column": column,
               "value": "" if value is None else str(value), "message": message}
        if self.sheet is not None:
            out["sheet"] = self.sheet
            if cell:
                out["cell"] = f"{self.sheet}!{cell}"
        return out


@dataclass
class IssueLog:
    """Keeps the first ``cap`` issues and counts them all (errors and warnings apart)."""

    cap: int = MAX_STORED
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    warnings: list[dict] = field(default_factory=list)
    _seen: set = field(default_factory=set)

    def error(self, issue: dict) -> None:
        key = (issue["file"], issue.get("sheet"), issue["line"], issue["column"], issue["message"])
        if key in self._seen:
            return
        self._seen.add(key)
        self.error_count += 1
        if len(self.errors) < self.cap:
            self.errors.append(issue)

    def warning(self, issue: dict) -> None:
        if len(self.warnings) < self.cap:
            self.warnings.append(issue)

    def error_frame(self, source: Source, frame: pd.DataFrame, cells: pd.Series | None = None):
        """Add errors given as a frame with columns line, column, value, message.

        Duplicates (the same line, column and message, e.g. an invalid UPN on a row's AM and PM
        marks) count once. Only the first rows up to the cap are turned into dicts; the rest are
        counted without a Python loop.
        """
        if frame.empty:
            return
        frame = frame.drop_duplicates(subset=["line", "column", "message"])
        room = max(self.cap - len(self.errors), 0)
        head = frame.iloc[:room] if room else frame.iloc[:0]
        for rec in head.itertuples(index=False):
            self.error(source.issue(line=_py(rec.line), column=rec.column, value=rec.value,
                                    message=rec.message,
                                    cell=getattr(rec, "cell", None)))
        # The tail is only counted (distinct keys not already seen are approximated by the
        # frame's own de-duplication).
        self.error_count += len(frame) - len(head)

    @property
    def ordered_errors(self) -> list[dict]:
        def key(e):
            line = e["line"]
            return (e["file"], e.get("sheet") or "", line if isinstance(line, int) else -1)
        return sorted(self.errors, key=key)


def _py(value):
    if isinstance(value, np.integer):
        return int(value)
    return value
