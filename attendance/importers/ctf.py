"""CTF XML (Common Transfer File): the attendance marks strings, read with defusedxml.

What is accepted (the official XSD was not found, so the reader is tolerant; see
docs/formats.md): ``CTfile/Header/SourceSchool`` with ``LEA`` and ``Estab``;
``CTfile/CTFpupilData/Pupil`` with ``UPN`` and ``Attendance/YearData`` repeated, each with
``LEA``, ``Estab``, ``SessionsPossible`` and ``AttendSessions`` holding ``AttendanceStartDate``
(yyyy-mm-dd) and ``AttendanceMarks`` (two characters per calendar date from the start date, AM
then PM, ``#`` where there is no session). Namespaces and element prefixes are ignored.

A DTD, entity declaration or external reference makes defusedxml refuse the file: CTF files
never need them, and they are how XML bombs and file-disclosure attacks work.
"""

from __future__ import annotations

import xml.sax
from dataclasses import dataclass, field
from datetime import date
from xml.sax.expatreader import ExpatLocator

import numpy as np
import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from attendance.importers.formats import EPOCH_ORDINAL
from attendance.importers.issues import FileRejected, IssueLog, Source

PUPILS_PER_FRAME = 2000
LABELS = ["UPN", "AttendanceStartDate", "AttendanceMarks", "LEA+Estab"]
COL_UPN, COL_START, COL_MARKS, COL_SCHOOL = 0, 1, 2, 3


@dataclass
class YearData:
    line: int = 0
    lea: str = ""
    estab: str = ""
    year: str = ""
    possible: str = ""
    start: str = ""
    start_line: int = 0
    marks: list[str] = field(default_factory=list)
    marks_line: int = 0


@dataclass
class PupilRecord:
    line: int = 0
    upn: str = ""
    years: list[YearData] = field(default_factory=list)


class _Handler(xml.sax.ContentHandler):
    def __init__(self, on_pupil):
        super().__init__()
        self.on_pupil = on_pupil
        self.stack: list[str] = []
        self.text: list[str] = []
        self.pupil: PupilRecord | None = None
        self.year: YearData | None = None
        self.source_lea = ""
        self.source_estab = ""
        self.root = None
        self.pupils = 0

    def _line(self) -> int:
        return self._locator.getLineNumber() if getattr(self, "_locator", None) else 0

    def startElement(self, name, attrs):
        name = name.rsplit(":", 1)[-1]
        if self.root is None:
            self.root = name
        self.stack.append(name)
        self.text = []
        if name == "Pupil" and "CTFpupilData" in self.stack:
            self.pupil = PupilRecord(line=self._line())
        elif name == "YearData" and self.pupil is not None:
            self.year = YearData(line=self._line())
        elif name == "AttendanceMarks" and self.year is not None:
            self.year.marks_line = self._line()
        elif name == "AttendanceStartDate" and self.year is not None:
            self.year.start_line = self._line()

    def characters(self, content):
        if self.year is not None and self.stack and self.stack[-1] == "AttendanceMarks":
            self.year.marks.append(content)
        else:
            self.text.append(content)

    def endElement(self, name):
        name = name.rsplit(":", 1)[-1]
        text = "".join(self.text).strip()
        self.text = []
        parent = self.stack[-2] if len(self.stack) > 1 else ""
        if self.year is not None:
            if name == "YearData":
                self.pupil.years.append(self.year)
                self.year = None
            elif name == "LEA" and parent == "YearData":
                self.year.lea = text
            elif name == "Estab" and parent == "YearData":
                self.year.estab = text
            elif name == "Year" and parent == "YearData":
                self.year.year = text
            elif name == "SessionsPossible":
                self.year.possible = text
            elif name == "AttendanceStartDate":
                self.year.start = text
        elif self.pupil is not None:
            if name == "UPN" and parent == "Pupil":
                self.pupil.upn = text
            elif name == "Pupil":
                self.pupils += 1
                self.on_pupil(self.pupil)
                self.pupil = None
        elif parent == "SourceSchool":
            if name == "LEA":
                self.source_lea = text
            elif name == "Estab":
                self.source_estab = text
        self.stack.pop()


@dataclass
class CtfReader:
    """Reads one CTF document into marks frames (see formats.py for the frame's shape)."""

    path: object
    source: Source
    issues: IssueLog
    possible_codes: set[str]
    only_laestab: str | None = None  # the school being imported for, when one was chosen
    known_laestab: set[str] = field(default_factory=set)
    labels: list[str] = field(default_factory=lambda: list(LABELS))
    rows_read: int = 0
    rejected_marks: int = 0
    skipped: dict = field(default_factory=dict)

    format = "ctf"
    is_xlsx = False

    def label(self, col: int) -> str:
        return LABELS[col]

    def cell(self, col, line):
        return None

    def frames(self):
        pending: list[PupilRecord] = []
        handler = _Handler(pending.append)
        self._handler = handler
        parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True,
                                    forbid_external=True)
        parser.setContentHandler(handler)
        # feed() (unlike parse()) never hands the handler a locator; line numbers need one.
        handler.setDocumentLocator(ExpatLocator(parser))
        try:
            with open(self.path, "rb") as fh:
                while block := fh.read(1024 * 1024):
                    parser.feed(block)
                    if handler.root is not None and handler.root != "CTfile":
                        raise FileRejected(
                            f"'{self.source.name}' is XML but not a CTF: its root element is "
                            f"<{handler.root}>, a CTF starts with <CTfile>.",
                            line=1, column="CTfile", value=handler.root)
                    if handler.source_lea and handler.source_estab and self.only_laestab:
                        self._check_source(handler)
                    if len(pending) >= PUPILS_PER_FRAME:
                        frame = self._to_frame(pending)
                        pending.clear()
                        if frame is not None:
                            yield frame
                parser.close()
        except DefusedXmlException as exc:
            raise FileRejected(
                f"'{self.source.name}' declares a DTD or entities ({exc.__class__.__name__}). "
                "A CTF never needs them and they are refused for safety; re-export the CTF "
                "from the MIS.", line=1, column="DOCTYPE") from exc
        except xml.sax.SAXParseException as exc:
            raise FileRejected(
                f"'{self.source.name}' is not well-formed XML at line {exc.getLineNumber()}, "
                f"column {exc.getColumnNumber()}: {exc.getMessage()}. Re-export the CTF.",
                line=exc.getLineNumber(), column="XML") from exc
        if handler.root is None:
            raise FileRejected(f"'{self.source.name}' is empty.")
        if self.only_laestab and handler.source_lea:
            self._check_source(handler)
        frame = self._to_frame(pending)
        if frame is not None:
            yield frame
        self.rows_read = handler.pupils
        for laestab, count in sorted(self.skipped.items()):
            self.issues.warning(self.source.issue(
                line=None, column="LEA+Estab", value=laestab,
                message=f"{count} marks for school {laestab[:3]}/{laestab[3:]} (another school "
                        "in the pupil's history) were not imported: this import is for "
                        + (f"{self.only_laestab[:3]}/{self.only_laestab[3:]}."
                           if self.only_laestab else "schools in this LA only.")))

    def _check_source(self, handler) -> None:
        source = f"{handler.source_lea}{handler.source_estab}"
        if source != self.only_laestab:
            raise FileRejected(
                f"This CTF comes from school {handler.source_lea}/{handler.source_estab} "
                f"(Header/SourceSchool), not from the school chosen for the import "
                f"({self.only_laestab[:3]}/{self.only_laestab[3:]}). Choose the right school.",
                line=None, column="SourceSchool", value=f"{handler.source_lea}/"
                                                        f"{handler.source_estab}")

    def _to_frame(self, pupils: list[PupilRecord]) -> pd.DataFrame | None:
        parts = []
        for pupil in pupils:
            for year in pupil.years:
                marks = "".join("".join(year.marks).split())
                if not marks:
                    continue
                laestab = (f"{year.lea}{year.estab}" if year.lea and year.estab
                           else f"{self._handler.source_lea}{self._handler.source_estab}" or None)
                if laestab and self.only_laestab and laestab != self.only_laestab:
                    self.skipped[laestab] = self.skipped.get(laestab, 0) + sum(
                        1 for ch in marks if ch != "#")
                    continue
                if laestab and not self.only_laestab and laestab not in self.known_laestab:
                    self.skipped[laestab] = self.skipped.get(laestab, 0) + sum(
                        1 for ch in marks if ch != "#")
                    continue
                try:
                    start = date.fromisoformat(year.start[:10])
                except ValueError:
                    self.issues.error(self.source.issue(
                        line=year.start_line or year.line, column="AttendanceStartDate",
                        value=year.start,
                        message=f"Pupil {pupil.upn}: AttendanceStartDate '{year.start}' is not "
                                "a date in the form yyyy-mm-dd; the marks that follow were not "
                                "read."))
                    self.rejected_marks += sum(1 for ch in marks if ch != "#")
                    continue
                if len(marks) % 2:
                    self.issues.error(self.source.issue(
                        line=year.marks_line, column="AttendanceMarks", value=marks[-2:],
                        message=f"Pupil {pupil.upn}: AttendanceMarks has {len(marks)} "
                                "characters, an odd number; each date needs two (AM then PM). "
                                "The marks for this year were not read; re-export the CTF."))
                    self.rejected_marks += sum(1 for ch in marks if ch != "#")
                    continue
                chars = np.frombuffer(marks.encode("utf-32-le"), dtype="<U1")
                keep = chars != "#"
                positions = np.nonzero(keep)[0]
                codes = chars[keep]
                if year.possible:
                    try:
                        stated = int(year.possible)
                    except ValueError:
                        stated = None
                    counted = int(np.isin(codes, list(self.possible_codes)).sum())
                    if stated is not None and stated != counted:
                        self.issues.warning(self.source.issue(
                            line=year.line, column="SessionsPossible", value=year.possible,
                            message=f"Pupil {pupil.upn} ({year.year or start.year}): "
                                    f"SessionsPossible says {stated} but the marks hold "
                                    f"{counted} possible sessions. The marks were imported; "
                                    "check the export."))
                n = len(codes)
                if not n:
                    continue
                base = start.toordinal() - EPOCH_ORDINAL
                parts.append(pd.DataFrame({
                    "line": np.full(n, year.marks_line, dtype=np.int64),
                    "upn": np.full(n, pupil.upn, dtype=object),
                    "day": (base + positions // 2).astype(np.int32),
                    "session": (positions % 2).astype(np.int8),
                    "code": codes.astype(object),
                    "col": np.full(n, COL_MARKS, dtype=np.int32),
                    "school": np.full(n, laestab or "", dtype=object),
                }))
        if not parts:
            return None
        frame = pd.concat(parts, ignore_index=True)
        frame.attrs["school_kind"] = "laestab"
        frame.attrs["ctf"] = True
        return frame
