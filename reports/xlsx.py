"""XLSX downloads (openpyxl): a sheet per table, numbers as numbers, every text cell neutralised
against formula injection (reports.exports.neutralise), and for files leaving the council
(``external``) groups of 1 to 4 pupils suppressed as "c" (reports.exports.suppress_row)."""

import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from reports.exports import WEEK_HEADER, neutralise, suppress_row, week_rows
from reports.selectors import Cell

CELL_HEADER = [
    "Group", "Pupils", "Possible sessions", "Attendance %", "Overall absence %",
    "Authorised absence %", "Unauthorised absence %", "Persistent absence %", "Severe absence %",
    "Band 1", "Band 2", "Band 3", "Band 4", "Band 5",
    "National overall absence %", "Statistical neighbours overall absence %",
    "National persistent absence %", "Statistical neighbours persistent absence %",
    "National severe absence %",
]
_FROM_PUPILS = slice(1, 14)  # the columns computed from pupils (the rest are published figures)


def cell_values(cell: Cell) -> list:
    return [
        cell.label, cell.pupils, cell.possible, cell.attendance_rate, cell.absence_rate,
        cell.authorised_rate, cell.unauthorised_rate, cell.pa_rate, cell.sa_rate, *cell.bands,
        cell.benchmark("absence"), cell.benchmark("absence", "statistical_neighbour"),
        cell.benchmark("pa"), cell.benchmark("pa", "statistical_neighbour"),
        cell.benchmark("sa"),
    ]


def cell_rows(cells: list[Cell], *, external: bool) -> list[list]:
    rows = []
    for cell in cells:
        row = cell_values(cell)
        rows.append(suppress_row(row, cell.pupils, figures=_FROM_PUPILS) if external else row)
    return rows


def _value(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return neutralise(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, int | float | date):
        return value
    return neutralise(value)


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()[:31] or "Sheet"
    name, n = clean, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def workbook_bytes(sheets: list[tuple[str, list, list[list]]]) -> bytes:
    """``sheets``: (title, header, rows). Returns the .xlsx file's bytes."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    for title, header, rows in sheets:
        sheet = book.create_sheet(_sheet_title(title, used))
        sheet.append([_value(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_value(v) for v in row])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "B2"
        sheet.column_dimensions["A"].width = 34
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def dashboard_sheets(dashboard: dict, *, external: bool,
                     weeks=None) -> list[tuple[str, list, list[list]]]:
    """The city dashboard: the whole city, one sheet per breakdown, then (given ``weeks``,
    ``reports.selectors.city_weeks``) the weeks."""
    sheets = [("All pupils", CELL_HEADER, cell_rows([dashboard["headline"]], external=external)
               if dashboard["headline"] else [])]
    for breakdown in dashboard["breakdowns"]:
        sheets.append((breakdown["title"], CELL_HEADER,
                       cell_rows(breakdown["cells"], external=external)))
    if weeks is not None:
        sheets.append(("Weeks", WEEK_HEADER, week_rows(weeks, external=external)))
    return sheets


def quarterly_sheets(report: dict, *, external: bool) -> list[tuple[str, list, list[list]]]:
    """The quarterly report: headline (term and year to date), band movement, each breakdown for
    the term and for the year to date, and the commentary."""
    period = report["period"]
    headline_rows = []
    for name, part in (("This term", report["term"]), ("Year to date", report["ytd"])):
        if part["headline"]:
            row = cell_rows([part["headline"]], external=external)[0]
            headline_rows.append([name, *row[1:]])
    sheets = [("Headline", ["Period", *CELL_HEADER[1:]], headline_rows)]
    movement = report["movement"]
    from reports.exports import suppress_count

    def count(n):
        return suppress_count(n) if external else n

    sheets.append((
        "Band movement", ["Band at the end of last term", *movement["columns"], "Total"],
        [[row["label"], *[count(n) for n in row["counts"]], count(row["total"])]
         for row in movement["rows"]],
    ))
    for name, part in (("Term", report["term"]), ("YTD", report["ytd"])):
        for breakdown in part["breakdowns"]:
            sheets.append((f"{name} {breakdown['title']}", CELL_HEADER,
                           cell_rows(breakdown["cells"], external=external)))
    sheets.append(("Commentary", [f"Commentary: {period.label}"],
                   [[sentence] for sentence in report["commentary"]]))
    return sheets
