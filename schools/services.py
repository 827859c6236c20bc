"""Changes to schools. Views, admin and commands call these; they hold the rules."""

from __future__ import annotations

import re

import pandas as pd
from django.db import transaction

from schools.imports import ImportRejected, ImportReport, RollbackDryRun, pick_columns, read_table
from schools.models import Locality, Phase, School

# Get Information About Schools (GIAS) "establishment fields" CSV: the columns we read. Anything
# else in the export is ignored. Header matching ignores case, spaces and punctuation.
GIAS_COLUMNS: dict[str, list[str]] = {
    "urn": ["URN"],
    "la_code": ["LA (code)", "LA code", "LEA"],
    "establishment_number": ["EstablishmentNumber", "Establishment number", "Estab"],
    "name": ["EstablishmentName", "Establishment name", "School name", "Name"],
    "school_type": ["TypeOfEstablishment (name)", "Type of establishment", "School type"],
    "phase": ["PhaseOfEducation (name)", "Phase of education", "Phase"],
    "status": ["EstablishmentStatus (name)", "Establishment status", "Status"],
    "statutory_low_age": ["StatutoryLowAge", "Statutory low age"],
    "statutory_high_age": ["StatutoryHighAge", "Statutory high age"],
    "postcode": ["Postcode"],
    "locality": ["Locality", "Area"],
    "district": ["DistrictAdministrative (name)"],
    "ward": ["AdministrativeWard (name)"],
}
GIAS_REQUIRED = ["urn", "la_code", "establishment_number", "name", "phase"]

# Establishment types the portal does not track: skipped with a warning, never an error.
GIAS_SKIPPED_TYPES = {
    "further education", "higher education institutions", "welsh establishment",
    "offshore schools", "british schools overseas", "online provider", "miscellaneous",
    "institution funded by other government department", "service children's education",
    "children's centre", "children's centre linked site",
}

SCHOOL_FIELDS = ["la_code", "establishment_number", "name", "phase", "school_type", "status",
                 "statutory_low_age", "statutory_high_age", "postcode"]


def gias_phase(*, phase: str, school_type: str, low_age: int | None, high_age: int | None,
               name: str = "") -> str | None:
    """Map GIAS 'PhaseOfEducation (name)' + 'TypeOfEstablishment (name)' to our Phase.

    The type wins for PRUs, alternative provision and special schools (GIAS gives them the phase
    'Not applicable' or the phase of the age range they serve). GIAS has no infant or junior
    phase: a primary whose statutory ages end at 7 is infant, one starting at 7 is junior (the
    name decides when ages are missing). 'Not applicable' otherwise falls back to the ages.
    Returns None when nothing maps.
    """
    kind = school_type.strip().lower()
    stage = phase.strip().lower()
    if "pupil referral unit" in kind:
        return Phase.PRU
    if "alternative provision" in kind:
        return Phase.AP
    if "special" in kind:
        return Phase.SPECIAL
    if stage == "nursery" or "nursery school" in kind:
        return Phase.NURSERY
    if stage.startswith("middle"):
        return Phase.MIDDLE
    if stage == "all-through" or stage == "all through":
        return Phase.ALL_THROUGH
    if stage in ("secondary", "16 plus"):
        return Phase.SECONDARY
    if stage == "primary":
        lowered = name.lower()
        if high_age is not None and high_age <= 7 or (high_age is None and "infant" in lowered):
            return Phase.INFANT
        if low_age is not None and low_age >= 7 or (low_age is None and "junior" in lowered):
            return Phase.JUNIOR
        return Phase.PRIMARY
    if low_age is not None and high_age is not None:  # 'Not applicable': decide by age range
        if high_age <= 5:
            return Phase.NURSERY
        if high_age <= 11 or high_age <= 12 and low_age < 7:
            return Phase.PRIMARY
        if low_age >= 10:
            return Phase.SECONDARY
        return Phase.ALL_THROUGH
    return None


def _age(value: str) -> int | None | str:
    if value == "":
        return None
    if re.fullmatch(r"\d{1,2}", value):
        return int(value)
    return "bad"


def _gias_rows(frame: pd.DataFrame, report: ImportReport) -> list[dict]:
    """Validate a GIAS frame row by row (about a hundred rows per LA) into clean dicts."""
    columns = pick_columns(frame, GIAS_COLUMNS)
    missing = [GIAS_COLUMNS[key][0] for key in GIAS_REQUIRED if key not in columns]
    if missing:
        report.error(1, "missing column(s): " + ", ".join(missing)
                     + ". Export 'establishment fields' from Get Information About Schools.")
        return []
    locality_key = _locality_column(frame, columns)
    if locality_key:
        report.warnings.append(f"locality taken from column '{columns[locality_key]}'")
    else:
        report.warnings.append("no locality column: existing localities are kept")

    rows, seen = [], {}
    for line, record in zip(frame.index, frame.to_dict("records"), strict=True):
        value = {key: record[col] for key, col in columns.items()}
        urn = value["urn"]
        school_type = value.get("school_type", "")
        if school_type.strip().lower() in GIAS_SKIPPED_TYPES:
            report.count("skipped (not a school type the portal tracks)")
            continue
        problems = []
        if not re.fullmatch(r"\d{6}", urn):
            problems.append(f"URN '{urn}' is not 6 digits")
        la_code = value["la_code"]
        if not re.fullmatch(r"\d{3}", la_code):
            problems.append(f"LA code '{la_code}' is not 3 digits")
        estab = value["establishment_number"]
        if re.fullmatch(r"\d{1,4}", estab):
            estab = estab.zfill(4)
        else:
            problems.append(f"establishment number '{estab}' is not 4 digits")
        if not value["name"]:
            problems.append("establishment name is empty")
        low = _age(value.get("statutory_low_age", ""))
        high = _age(value.get("statutory_high_age", ""))
        if low == "bad" or high == "bad":
            problems.append("statutory ages must be whole numbers")
            low = high = None
        phase = gias_phase(phase=value["phase"], school_type=school_type, low_age=low,
                           high_age=high, name=value["name"])
        if phase is None:
            problems.append(
                f"cannot map phase '{value['phase']}' with type '{school_type}' and no "
                "statutory ages to a portal phase"
            )
        if urn in seen:
            problems.append(f"URN {urn} already appears on line {seen[urn]}")
        if problems:
            report.error(line, "; ".join(problems))
            continue
        seen[urn] = line
        rows.append({
            "line": line, "urn": urn, "la_code": la_code, "establishment_number": estab,
            "name": value["name"][:200], "phase": str(phase),
            "school_type": school_type[:120], "status": (value.get("status") or "Open")[:60],
            "statutory_low_age": low, "statutory_high_age": high,
            "postcode": value.get("postcode", "").upper()[:10],
            "locality": record[columns[locality_key]][:100] if locality_key else None,
        })
    _check_dfe_numbers(rows, report)
    return rows


def _locality_column(frame: pd.DataFrame, columns: dict[str, str]) -> str | None:
    """An explicit Locality column; else the district if it varies (a county); else the ward."""
    if "locality" in columns:
        return "locality"
    if "district" in columns and frame[columns["district"]].replace("", pd.NA).nunique() > 1:
        return "district"
    if "ward" in columns:
        return "ward"
    if "district" in columns:
        return "district"
    return None


def _check_dfe_numbers(rows: list[dict], report: ImportReport) -> None:
    """Two open schools may not share a DfE number (a closed predecessor may: academy
    converters usually keep their predecessor's number)."""
    open_by_dfe: dict[tuple[str, str], int] = {}
    for row in rows:
        if row["status"].lower() == "closed":
            continue
        key = (row["la_code"], row["establishment_number"])
        if key in open_by_dfe:
            report.error(row["line"], f"DfE number {key[0]}/{key[1]} is also used by the open "
                                      f"school on line {open_by_dfe[key]}")
        else:
            open_by_dfe[key] = row["line"]
    clashes = School.objects.exclude(status__iexact="closed").exclude(
        urn__in=[r["urn"] for r in rows]
    ).filter(la_code__in={k[0] for k in open_by_dfe})
    for school in clashes:
        line = open_by_dfe.get((school.la_code, school.establishment_number))
        if line is not None:
            report.error(line, f"DfE number {school.dfe_number} already belongs to open school "
                               f"{school.name} (URN {school.urn}); close it first")


@transaction.atomic
def schools_import_gias(*, path=None, source=None, filename: str = "", user=None,
                        dry_run: bool = False) -> ImportReport:
    """Upsert schools by URN from a GIAS CSV/XLSX export, all or nothing.

    Rows that already match the database are left alone (re-importing changes nothing).
    Raises ``ImportRejected`` (with the report) if any row is bad; nothing is written then.
    ``user`` is the person importing (kept for the audit trail of future versions).
    """
    source = path if path is not None else source
    report = ImportReport(source=filename or (str(path) if path is not None else "upload"))
    frame, _ = read_table(source, filename=filename)
    report.rows = len(frame)
    rows = _gias_rows(frame, report)
    if report.errors:
        raise ImportRejected(report)

    existing = {s.urn: s for s in School.objects.filter(urn__in=[r["urn"] for r in rows])}
    names = sorted({r["locality"] for r in rows if r["locality"]})
    Locality.objects.bulk_create([Locality(name=n) for n in names], ignore_conflicts=True)
    locality_ids = dict(Locality.objects.filter(name__in=names).values_list("name", "id"))

    to_write, update_fields = [], list(SCHOOL_FIELDS)
    has_locality = any(r["locality"] is not None for r in rows)
    if has_locality:
        update_fields.append("locality")
    for row in rows:
        values = {f: row[f] for f in SCHOOL_FIELDS}
        if has_locality:
            values["locality_id"] = locality_ids.get(row["locality"]) if row["locality"] else None
        current = existing.get(row["urn"])
        if current is None:
            report.count("created")
            report.changes.append({"urn": row["urn"], "name": row["name"], "action": "new"})
        else:
            changed = {k: v for k, v in values.items() if getattr(current, k) != v}
            if not changed:
                report.count("unchanged")
                continue
            report.count("updated")
            report.changes.append({"urn": row["urn"], "name": row["name"], "action": "update",
                                   "fields": sorted(changed)})
        to_write.append(School(urn=row["urn"], **values))

    try:
        with transaction.atomic():
            if to_write:
                School.objects.bulk_create(
                    to_write, update_conflicts=True, unique_fields=["urn"],
                    update_fields=update_fields, batch_size=1000,
                )
            if dry_run:
                raise RollbackDryRun
    except RollbackDryRun:
        return report
    report.written = True
    return report
