"""Breakdown tables as rows for CSV (and later XLSX), with small-number suppression."""

import csv
from collections.abc import Iterable

from reports.selectors import SUPPRESSED, SUPPRESSION_THRESHOLD, Cell

HEADER = [
    "Breakdown", "Group", "Pupils", "Possible sessions", "Attendance %", "Overall absence %",
    "Authorised absence %", "Unauthorised absence %", "Persistent absence %",
    "Severe absence %", "Band 1", "Band 2", "Band 3", "Band 4", "Band 5",
    "National overall absence %", "Statistical neighbours overall absence %",
    "National persistent absence %", "National severe absence %",
]
_FIGURES = slice(2, 15)  # the columns computed from pupils (benchmarks are published figures)


def _blank(value) -> str:
    return "" if value is None else str(value)


def cell_row(title: str, cell: Cell) -> list[str]:
    return [
        title, cell.label, str(cell.pupils), str(cell.possible), _blank(cell.attendance_rate),
        _blank(cell.absence_rate), _blank(cell.authorised_rate), _blank(cell.unauthorised_rate),
        _blank(cell.pa_rate), _blank(cell.sa_rate), *[str(n) for n in cell.bands],
        _blank(cell.benchmark("absence")),
        _blank(cell.benchmark("absence", "statistical_neighbour")),
        _blank(cell.benchmark("pa")), _blank(cell.benchmark("sa")),
    ]


def suppress_row(row: list[str], pupils: int, *, threshold: int = SUPPRESSION_THRESHOLD,
                 figures: slice = _FIGURES) -> list[str]:
    """A row for outside the council: when fewer than ``threshold`` pupils are in the group,
    every figure computed from them reads "c" (the DfE's convention); published benchmarks stay.
    A group of 0 pupils is shown as 0 (nothing to identify)."""
    if 0 < pupils < threshold:
        row = list(row)
        for i in range(*figures.indices(len(row))):
            row[i] = SUPPRESSED
    return row


def suppress_count(count: int, *, threshold: int = SUPPRESSION_THRESHOLD):
    """One count for outside the council: ``"c"`` when 1 to threshold-1, else the count."""
    return SUPPRESSED if 0 < count < threshold else count


def dashboard_rows(dashboard: dict, *, external: bool) -> list[list[str]]:
    rows = [HEADER]
    pairs = [("All pupils", dashboard["headline"])] + [
        (b["title"], cell) for b in dashboard["breakdowns"] for cell in b["cells"]]
    for title, cell in pairs:
        row = cell_row(title, cell)
        rows.append(suppress_row(row, cell.pupils) if external else row)
    return rows


WEEK_HEADER = [
    "Week beginning", "Pupils", "Possible sessions", "Attended sessions",
    "Authorised absence sessions", "Unauthorised absence sessions", "Attendance %",
    "Overall absence %", "Authorised absence %", "Unauthorised absence %",
    "Persistent absence % (year to date)", "Severe absence % (year to date)",
]


def week_rows(weeks, *, external: bool) -> list[list]:
    """One row per week (``reports.selectors.Week``; values, not text: the CSV writes them as
    text, the XLSX keeps dates and numbers). ``external``: a week with 1 to 4 pupils with
    possible sessions reads "c" in every figure."""
    rows = []
    for w in weeks:
        row = [w.week_start, w.pupils, w.possible, w.attended, w.authorised, w.unauthorised,
               w.attendance_rate, w.absence_rate, w.authorised_rate, w.unauthorised_rate,
               w.pa_rate, w.sa_rate]
        rows.append(suppress_row(row, w.pupils, figures=slice(1, None)) if external else row)
    return rows


def neutralise(value) -> str:
    """Stop a spreadsheet reading a cell as a formula: prefix ' to text starting = + - @ (or a
    tab / carriage return, which some spreadsheets strip before looking)."""
    text = "" if value is None else str(value)
    if text and text[0] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def write_csv(out, rows: Iterable[list]) -> None:
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
