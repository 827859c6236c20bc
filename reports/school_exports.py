"""The schools table and the school report as tables of values, shared by the page, the CSV and
the XLSX, so a download always holds the figures on screen. ``external`` applies small-number
suppression (``reports.exports.suppress_row``: "c" for a group of 1 to 4 pupils)."""

import io
from dataclasses import dataclass, field
from decimal import Decimal

from attendance.bands import Band
from reports.exports import neutralise, suppress_count, suppress_row, write_csv

RATE_HEADER = ["Pupils", "Attendance %", "Overall absence %", "Authorised absence %",
               "Unauthorised absence %", "Persistent absence %", "Severe absence %"]
BAND_HEADER = [f"Band {n}" for n in range(1, 6)]


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    # Cells from this column on are figures (right-aligned on the page, numbers in the XLSX).
    figures_from: int = 1


def _rates(cell) -> list:
    return [cell.pupils, cell.attendance_rate, cell.absence_rate, cell.authorised_rate,
            cell.unauthorised_rate, cell.pa_rate, cell.sa_rate]


def _suppress(row: list, pupils: int, external: bool, start: int = 1) -> list:
    return suppress_row(row, pupils, figures=slice(start, None)) if external else row


def schools_table_rows(rows, *, external: bool = False) -> Table:
    table = Table("schools", "Schools", ["URN", "School", "Phase", "Locality", *RATE_HEADER,
                                         *BAND_HEADER, "Trend (points, last 4 weeks)"],
                  figures_from=4)
    for row in rows:
        cell = row.cell
        values = [row.school.urn, row.school.name, row.school.get_phase_display(),
                  row.school.locality.name if row.school.locality_id else "", *_rates(cell),
                  *cell.bands, row.trend.change if row.trend else None]
        table.rows.append(_suppress(values, cell.pupils, external, start=4))
    return table


def school_report_tables(report: dict, *, external: bool = False) -> list[Table]:
    """Headline (school, city, national), bands, each breakdown and the weekly figures."""
    school, headline = report["school"], report["headline"]
    tables = []
    head = Table("headline", "Headline figures", ["Group", *RATE_HEADER])
    if headline is not None:
        head.rows.append(_suppress([school.name, *_rates(headline)], headline.pupils, external))
    if report["city_phase"] is not None:
        cell = report["city_phase"]
        head.rows.append(_suppress([f"City, {school.get_phase_display().lower()} schools",
                                    *_rates(cell)], cell.pupils, external))
    if report["city"] is not None:
        cell = report["city"]
        head.rows.append(_suppress(["City, all schools", *_rates(cell)], cell.pupils, external))
    national = report["national"]
    if national:
        figure = next(iter(next(iter(national.values())).values()))
        head.rows.append([f"National ({figure.academic_year}, published)", None, None,
                          _value(national, "absence"), None, None, _value(national, "pa"),
                          _value(national, "sa")])
    tables.append(head)

    bands = Table("bands", "Pupils by absence band", ["Band", "Pupils", "Share %"])
    if headline is not None and headline.pupils:
        for band, count in zip(Band, headline.bands, strict=True):
            share = Decimal(100 * count / headline.pupils).quantize(Decimal("0.1"))
            if external and 0 < count < 5:
                bands.rows.append([f"{band.value}. {band.label}", suppress_count(count), "c"])
            elif external and 0 < headline.pupils < 5:
                bands.rows.append([f"{band.value}. {band.label}", "c", "c"])
            else:
                bands.rows.append([f"{band.value}. {band.label}", count, share])
    tables.append(bands)

    for breakdown in report["breakdowns"]:
        table = Table(breakdown["key"], breakdown["title"], ["Group", *RATE_HEADER, *BAND_HEADER])
        for cell in breakdown["cells"]:
            table.rows.append(_suppress([cell.label, *_rates(cell), *cell.bands], cell.pupils,
                                        external))
        tables.append(table)

    weekly = Table("weeks", "Week by week", ["Week beginning", "Possible sessions",
                                             "Attended sessions", "Attendance %",
                                             "Overall absence %"])
    pupils = headline.pupils if headline is not None else 0
    for week in report["weeks"]:
        weekly.rows.append(_suppress([week.week_start, week.possible, week.attended,
                                      week.attendance_rate, week.absence_rate], pupils, external))
    tables.append(weekly)
    return tables


def _value(national: dict, measure: str):
    figure = national.get(measure, {}).get("national")
    return figure.value if figure else None


def _csv_value(value):
    return "" if value is None else value


def table_csv(table: Table) -> str:
    """One table as CSV: its header row, then its rows."""
    out = io.StringIO()
    write_csv(out, [table.header, *[[_csv_value(v) for v in row] for row in table.rows]])
    return out.getvalue()


def tables_csv(tables: list[Table]) -> str:
    """One CSV: each table as a title row, a header row and its rows, then a blank line."""
    out = io.StringIO()
    rows = []
    for table in tables:
        rows += [[table.title], table.header,
                 *[[_csv_value(v) for v in row] for row in table.rows], []]
    write_csv(out, rows)
    return out.getvalue()


def _xlsx_value(value):
    """Numbers stay numbers; text (names come from outside) is neutralised like in the CSV."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value
    return neutralise(value)


def tables_xlsx(tables: list[Table], *, sheet_names: dict | None = None) -> bytes:
    """One sheet per table (header row in bold, then its rows); returns the workbook's bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    used = set()
    for table in tables:
        name = (sheet_names or {}).get(table.key, table.title)
        for bad in "[]:*?/\\":
            name = name.replace(bad, " ")
        name = name[:31]
        while name in used:
            name = name[:29] + f" {len(used)}"
        used.add(name)
        sheet = workbook.create_sheet(name)
        sheet.append([neutralise(h) for h in table.header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_value(v) for v in row])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if hasattr(cell.value, "isoformat"):
                    cell.number_format = "yyyy-mm-dd"
        sheet.column_dimensions["A"].width = 34
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
