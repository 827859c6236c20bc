"""Changes to pupil records. Views, API, admin and commands call these; they hold the rules."""

import re
from datetime import date

import pandas as pd
from auditlog.context import set_actor
from auditlog.signals import accessed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pupils.models import Characteristics, Enrolment, Pupil, validate_upn
from schools.imports import (
    ImportRejected,
    ImportReport,
    RollbackDryRun,
    parse_dates,
    pick_columns,
    read_table,
)


def pupil_view_record(*, pupil: Pupil, user) -> None:
    """Audit that ``user`` viewed this pupil's record (special-category data)."""
    with set_actor(user):
        accessed.send(sender=Pupil, instance=pupil)


def pupils_view_record(*, pupils, user) -> None:
    """Audit a list of pupils shown to ``user``: the same access entry per pupil as
    ``pupil_view_record``, written in one INSERT (a page of 50 pupils was 50 commits)."""
    from auditlog.cid import get_cid
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(Pupil)
    cid, now = get_cid(), timezone.now()
    LogEntry.objects.bulk_create([
        LogEntry(content_type=content_type, object_pk=str(pupil.pk), object_id=pupil.pk,
                 object_repr=str(pupil), action=LogEntry.Action.ACCESS, actor=user,
                 actor_email=getattr(user, "email", None), cid=cid, timestamp=now)
        for pupil in pupils])


# --- Roster import ---------------------------------------------------------------------------
# A roster is a MIS export (SIMS, Arbor, Bromcom, ScholarPack…) of pupils on roll: one row per
# pupil per school. Accepted headers and values are documented in docs/roster-formats.md.

ROSTER_COLUMNS: dict[str, list[str]] = {
    "upn": ["UPN", "Unique Pupil Number"],
    "surname": ["Legal Surname", "Surname", "Last name", "Family name"],
    "forename": ["Legal Forename", "Forename", "First name", "Forenames", "Given name"],
    "dob": ["DOB", "Date of Birth", "Birth date"],
    "sex": ["Sex", "Gender"],
    "year_group": ["NC Year", "Year Group", "Year", "NC Year Actual", "National Curriculum Year"],
    "urn": ["URN", "School URN"],
    "dfe": ["DfE number", "DfE", "DfE No", "LAESTAB", "LA Estab", "DfE Number (LA/Estab)"],
    "entry_date": ["Entry Date", "Date of Admission", "Admission Date", "Start Date",
                   "Date of Entry"],
    "registration": ["Enrol Status", "Enrolment Status", "Registration", "Registration Status"],
    "fsm": ["FSM", "FSM Eligible", "Free School Meals", "FSM Eligibility"],
    "sen": ["SEN Status", "SEN", "SEN Provision"],
    "eal": ["EAL", "English as an Additional Language"],
    "first_language": ["First Language", "Language"],
    "ethnicity": ["Ethnicity", "Ethnicity Code", "Ethnic Group", "Ethnic Code"],
    "cin": ["CIN", "Child in Need"],
    "cp": ["CP", "Child Protection", "CP Plan", "Child Protection Plan"],
    "cla": ["CLA", "Looked After", "In Care", "Child Looked After", "CiC"],
    "young_carer": ["Young Carer"],
    "postcode": ["Postcode", "Home Postcode", "Post Code"],
}
ROSTER_REQUIRED = ["upn", "surname", "forename", "dob", "sex", "year_group"]
FLAG_FIELDS = ["fsm", "eal", "cin", "cp", "cla", "young_carer"]
SNAPSHOT_FIELDS = ["year_group", "fsm", "sen", "eal", "ethnicity", "cin", "cp", "cla",
                   "young_carer", "postcode_area"]

_TRUE = {"Y", "YES", "TRUE", "T", "1", "ELIGIBLE"}
_FALSE = {"", "N", "NO", "FALSE", "F", "0", "NOT ELIGIBLE", "NONE"}
_SEX = {"M": "M", "MALE": "M", "BOY": "M", "F": "F", "FEMALE": "F", "GIRL": "F"}
_SEN = {"": "N", "N": "N", "NONE": "N", "NO SEN": "N", "NO": "N",
        "K": "K", "SEN SUPPORT": "K", "SUPPORT": "K", "A": "K", "P": "K",
        "SCHOOL ACTION": "K", "SCHOOL ACTION PLUS": "K",
        "E": "E", "EHCP": "E", "EHC PLAN": "E", "EHC": "E", "S": "E", "STATEMENT": "E"}
_REGISTRATION = {"": "C", "C": "C", "SINGLE": "C", "CURRENT": "C", "M": "M", "MAIN": "M",
                 "S": "S", "SUBSIDIARY": "S", "DUAL": "S"}
_ETHNICITY_LABELS = {
    "whitebritish": "WBRI", "british": "WBRI", "whiteirish": "WIRI", "irish": "WIRI",
    "travellerofirishheritage": "WIRT", "gypsyroma": "WROM", "anyotherwhitebackground": "WOTH",
    "whiteother": "WOTH", "otherwhite": "WOTH",
    "whiteandblackcaribbean": "MWBC", "whiteandblackafrican": "MWBA", "whiteandasian": "MWAS",
    "anyothermixedbackground": "MOTH", "mixedother": "MOTH",
    "indian": "AIND", "pakistani": "APKN", "bangladeshi": "ABAN", "anyotherasianbackground": "AOTH",
    "asianother": "AOTH", "blackcaribbean": "BCRB", "caribbean": "BCRB", "blackafrican": "BAFR",
    "african": "BAFR", "anyotherblackbackground": "BOTH", "blackother": "BOTH",
    "chinese": "CHNE", "anyotherethnicgroup": "OOTH", "otherethnicgroup": "OOTH",
    "refused": "REFU", "informationnotyetobtained": "NOBT", "notobtained": "NOBT",
}


def _year_group(value: str) -> str | None:
    text = re.sub(r"[^A-Z0-9]", "", value.upper())
    text = re.sub(r"^(NCYEAR|YEAR|YR|NC|Y)(?=\d)", "", text)
    if text in ("R", "REC", "RECEPTION", "YR"):
        return "R"
    if text in ("N1", "N2"):
        return text
    if text in ("NURSERY1",):
        return "N1"
    if text in ("NURSERY2",):
        return "N2"
    if text.isdigit() and 1 <= int(text) <= 14:
        return str(int(text))
    return None


def _registration(value: str) -> str | None:
    text = value.upper().strip()
    if text in _REGISTRATION:
        return _REGISTRATION[text]
    for word, code in (("SUBSIDIARY", "S"), ("MAIN", "M"), ("SINGLE", "C")):
        if word in text:
            return code
    return None


def _ethnicity(value: str) -> str | None:
    if value == "":
        return ""
    if re.fullmatch(r"[A-Za-z]{4}", value):
        return value.upper()
    return _ETHNICITY_LABELS.get(re.sub(r"[^a-z]", "", value.lower().replace("&", "and")))


def _postcode_area(value: str) -> str:
    text = value.upper().strip()
    if not text:
        return ""
    outward = text.split()[0] if " " in text else text[:-3] if len(text) > 4 else text
    return outward[:5]


def _upn_problem(upn: str) -> str | None:
    from stdnum.gb import upn as upn_checker

    if upn_checker.is_valid(upn):
        return None
    if (len(upn) == 13 and upn[1:12].isdigit() and upn[0].isalpha()
            and upn_checker.is_valid(upn_checker.calc_check_digit(upn[1:]) + upn[1:])):
        expected = upn_checker.calc_check_digit(upn[1:])
        return (f"UPN '{upn}' has the wrong check letter '{upn[0]}' (the digits give "
                f"'{expected}'): check it against the MIS")
    try:
        validate_upn(upn)
    except ValidationError as exc:
        return exc.messages[0]
    return f"UPN '{upn}' is not valid"


def _school_lookup(frame, columns):
    """Map each row to a school id by URN, else by DfE number (879/2001, 879-2001, 8792001)."""
    from schools.models import School

    ids = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    shown = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    if "urn" in columns:
        urns = frame[columns["urn"]]
        by_urn = dict(School.objects.filter(urn__in=set(urns)).values_list("urn", "id"))
        ids = urns.map(by_urn)
        shown = "URN " + urns
    if "dfe" in columns:
        dfe = frame[columns["dfe"]].str.replace(r"[\s/\-]", "", regex=True)
        lookup = {}
        for school in School.objects.filter(la_code__in={d[:3] for d in dfe}).order_by(
            "-status"  # 'Open…' sorts after 'Closed': an open school wins a shared DfE number
        ).values("la_code", "establishment_number", "id"):
            lookup[school["la_code"] + school["establishment_number"]] = school["id"]
        by_dfe = dfe.map(lookup)
        missing = ids.isna()
        ids[missing] = by_dfe[missing]
        shown[missing] = "DfE number " + frame[columns["dfe"]][missing]
    return ids, shown


def _audit_entries(model, rows, *, action, user, source):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(model)
    return [
        LogEntry(content_type=content_type, object_pk=str(pk), object_id=pk, object_repr=text,
                 action=action, changes=changes, actor=user,
                 actor_email=getattr(user, "email", None),
                 additional_data={"source": "roster import", "file": source})
        for pk, text, changes in rows
    ]


@transaction.atomic
def roster_import(*, path=None, source=None, filename: str = "", user=None,
                  effective_date: date | None = None, dry_run: bool = False) -> ImportReport:
    """Create or update pupils, their enrolments and a characteristics snapshot from a roster.

    All or nothing: any bad row (invalid UPN, unknown school, bad date or value) raises
    ``ImportRejected`` listing every bad row with its line, and nothing is written. Re-importing
    the same roster writes nothing: pupils and enrolments are compared first, and a snapshot is
    only added when the pupil's characteristics differ from their latest one. Characteristics the
    file does not carry (CIN, CP, CLA… are rarely in a MIS export) are carried forward.
    """
    source = path if path is not None else source
    effective_date = effective_date or timezone.localdate()
    report = ImportReport(source=filename or (str(path) if path is not None else "upload"))
    frame, _ = read_table(source, filename=filename)
    report.rows = len(frame)
    columns = pick_columns(frame, ROSTER_COLUMNS)
    missing = [ROSTER_COLUMNS[key][0] for key in ROSTER_REQUIRED if key not in columns]
    if "urn" not in columns and "dfe" not in columns:
        missing.append("URN or DfE number")
    if missing:
        report.error(1, "missing column(s): " + ", ".join(missing))
        raise ImportRejected(report)

    rows = _roster_rows(frame, columns, report, effective_date)
    if report.errors:
        raise ImportRejected(report)
    try:
        with transaction.atomic():
            _roster_write(rows, columns, report, effective_date, user)
            if dry_run:
                raise RollbackDryRun
    except RollbackDryRun:
        report.changes.clear()
        return report
    report.written = True
    return report


def _roster_rows(frame, columns, report, effective_date) -> list[dict]:
    col = {key: frame[name] for key, name in columns.items()}
    upn = col["upn"].str.upper().str.replace(r"\s", "", regex=True)
    dob = parse_dates(col["dob"])
    entry = parse_dates(col["entry_date"]) if "entry_date" in col else None
    school_ids, school_shown = _school_lookup(frame, columns)
    seen: dict[tuple[str, int], int] = {}
    first_line: dict[str, dict] = {}
    rows = []
    for line in frame.index:
        problems = []
        value = {key: series[line] for key, series in col.items()}
        this_upn = upn[line]
        if (problem := _upn_problem(this_upn)) is not None:
            problems.append(problem)
        if not value["surname"] or not value["forename"]:
            problems.append("surname and forename are required")
        birth = dob[line]
        if pd.isna(birth):
            problems.append(f"date of birth '{value['dob']}' is not a date "
                            "(use dd/mm/yyyy or yyyy-mm-dd)")
        elif birth.date() > effective_date:
            problems.append(f"date of birth {value['dob']} is in the future")
        sex = _SEX.get(value["sex"].upper())
        if sex is None:
            problems.append(f"sex '{value['sex']}' is not M or F")
        year_group = _year_group(value["year_group"])
        if year_group is None:
            problems.append(f"year group '{value['year_group']}' is not one of N1, N2, R, 1-14")
        school_id = school_ids[line]
        if pd.isna(school_id):
            problems.append(f"unknown school: {school_shown[line] or 'no URN or DfE number'} "
                            "is not in the portal (import it from GIAS first)")
            school_id = None
        start = None
        if entry is not None and value["entry_date"]:
            if pd.isna(entry[line]):
                problems.append(f"entry date '{value['entry_date']}' is not a date "
                                "(use dd/mm/yyyy or yyyy-mm-dd)")
            else:
                start = entry[line].date()
        registration = _registration(value.get("registration", ""))
        if registration is None:
            problems.append(f"enrolment status '{value['registration']}' is not C, M or S")
        flags = {}
        for key in FLAG_FIELDS:
            if key in value:
                text = value[key].upper()
                if text in _TRUE:
                    flags[key] = True
                elif text in _FALSE:
                    flags[key] = False
                else:
                    problems.append(f"{columns[key]} '{value[key]}' is not Y or N")
        if "eal" not in value and "first_language" in value:
            flags["eal"] = value["first_language"].upper() not in ("", "ENG", "ENB", "ENGLISH")
        if "sen" in value:
            sen = _SEN.get(value["sen"].upper())
            if sen is None:
                problems.append(f"SEN status '{value['sen']}' is not N, K or E")
            else:
                flags["sen"] = sen
        if "ethnicity" in value:
            ethnicity = _ethnicity(value["ethnicity"])
            if ethnicity is None:
                problems.append(f"ethnicity '{value['ethnicity']}' is not a DfE ethnicity code")
            else:
                flags["ethnicity"] = ethnicity
        if "postcode" in value:
            flags["postcode_area"] = _postcode_area(value["postcode"])
        if school_id is not None and (this_upn, school_id) in seen:
            problems.append(f"UPN {this_upn} is already listed at this school on line "
                            f"{seen[(this_upn, school_id)]}")
        person = {"surname": value["surname"][:100], "forename": value["forename"][:100],
                  "date_of_birth": None if pd.isna(birth) else birth.date(), "sex": sex}
        if not problems and this_upn in first_line:
            earlier = first_line[this_upn]
            if any(earlier[k] != person[k] for k in person):
                problems.append(f"UPN {this_upn} appears on line {earlier['line']} with "
                                "a different name, date of birth or sex")
        if problems:
            report.error(int(line), "; ".join(problems))
            continue
        seen[(this_upn, school_id)] = line
        first_line.setdefault(this_upn, {**person, "line": line})
        rows.append({"line": line, "upn": this_upn, **person, "school_id": int(school_id),
                     "start_date": start, "registration": registration,
                     "snapshot": {"year_group": year_group, **flags}})
    return rows


def _roster_write(rows, columns, report, effective_date, user) -> None:
    source = report.source
    person_fields = ["surname", "forename", "date_of_birth", "sex"]
    upns = list(dict.fromkeys(r["upn"] for r in rows))
    existing = {p["upn"]: p for p in Pupil.objects.filter(upn__in=upns).values(
        "id", "upn", *person_fields)}
    new_pupils, changed_pupils, changes_by_upn = [], [], {}
    done = set()
    for row in rows:
        if row["upn"] in done:
            continue
        done.add(row["upn"])
        current = existing.get(row["upn"])
        values = {f: row[f] for f in person_fields}
        if current is None:
            new_pupils.append(Pupil(upn=row["upn"], **values))
            continue
        diff = {f: [str(current[f]), str(values[f])] for f in person_fields
                if current[f] != values[f]}
        if diff:
            changed_pupils.append(Pupil(upn=row["upn"], **values))
            changes_by_upn[row["upn"]] = diff
    report.count("pupils created", len(new_pupils))
    report.count("pupils updated", len(changed_pupils))
    report.count("pupils unchanged", len(done) - len(new_pupils) - len(changed_pupils))
    if new_pupils or changed_pupils:
        Pupil.objects.bulk_create(new_pupils + changed_pupils, update_conflicts=True,
                                  unique_fields=["upn"], update_fields=person_fields,
                                  batch_size=2000)
    pupil_ids = dict(Pupil.objects.filter(upn__in=upns).values_list("upn", "id"))

    # Enrolments: the row's (pupil, school, entry date); else the pupil's open enrolment there.
    enrolments = list(Enrolment.objects.filter(pupil_id__in=pupil_ids.values()).values(
        "id", "pupil_id", "school_id", "start_date", "end_date", "registration"))
    exact = {(e["pupil_id"], e["school_id"], e["start_date"]): e for e in enrolments}
    open_at = {(e["pupil_id"], e["school_id"]): e for e in enrolments if e["end_date"] is None}
    new_enrolments, changed_enrolments, unchanged = [], [], 0
    for row in rows:
        pid = pupil_ids[row["upn"]]
        match = (exact.get((pid, row["school_id"], row["start_date"]))
                 if row["start_date"] else None) or open_at.get((pid, row["school_id"]))
        if match is None:
            new_enrolments.append(Enrolment(
                pupil_id=pid, school_id=row["school_id"], registration=row["registration"],
                start_date=row["start_date"] or effective_date))
            continue
        wanted = {"start_date": row["start_date"] or match["start_date"], "end_date": None,
                  "registration": row["registration"]}
        if all(match[k] == v for k, v in wanted.items()):
            unchanged += 1
        else:
            changed_enrolments.append(Enrolment(id=match["id"], pupil_id=pid,
                                                school_id=row["school_id"], **wanted))
    Enrolment.objects.bulk_create(new_enrolments, batch_size=2000)
    Enrolment.objects.bulk_update(changed_enrolments, ["start_date", "end_date", "registration"],
                                  batch_size=1000)
    report.count("enrolments created", len(new_enrolments))
    report.count("enrolments updated", len(changed_enrolments))
    report.count("enrolments unchanged", unchanged)

    # Characteristics: compare with the latest snapshot on or before the effective date.
    latest = {
        c["pupil_id"]: c for c in Characteristics.objects.filter(
            pupil_id__in=pupil_ids.values(), effective_date__lte=effective_date,
        ).order_by("pupil_id", "-effective_date").distinct("pupil_id").values(
            "id", "pupil_id", "effective_date", *SNAPSHOT_FIELDS)
    }
    defaults = {f.name: f.get_default() for f in Characteristics._meta.concrete_fields
                if f.name in SNAPSHOT_FIELDS}
    new_snaps, changed_snaps, unchanged, done = [], [], 0, set()
    snap_changes = {}  # pupil id → {field: [before, after]} for the audit trail
    for row in rows:
        pid = pupil_ids[row["upn"]]
        if pid in done:
            continue
        done.add(pid)
        before = latest.get(pid)
        wanted = {**(before or defaults), **row["snapshot"]}
        wanted = {f: wanted[f] for f in SNAPSHOT_FIELDS}
        if before is not None and all(before[f] == wanted[f] for f in SNAPSHOT_FIELDS):
            unchanged += 1
            continue
        snap_changes[pid] = {f: [None if before is None else str(before[f]), str(wanted[f])]
                             for f in SNAPSHOT_FIELDS
                             if before is None or before[f] != wanted[f]}
        if before is not None and before["effective_date"] == effective_date:
            changed_snaps.append(Characteristics(id=before["id"], pupil_id=pid,
                                                 effective_date=effective_date, **wanted))
        else:
            new_snaps.append(Characteristics(pupil_id=pid, effective_date=effective_date,
                                             **wanted))
    Characteristics.objects.bulk_create(new_snaps, batch_size=2000)
    Characteristics.objects.bulk_update(changed_snaps, SNAPSHOT_FIELDS, batch_size=1000)
    report.count("snapshots created", len(new_snaps))
    report.count("snapshots updated", len(changed_snaps))
    report.count("snapshots unchanged", unchanged)

    # Audit trail for what actually changed (bulk writes bypass auditlog's signals).
    from auditlog.models import LogEntry

    audit = _audit_entries(
        Pupil, [(pupil_ids[p.upn], p.upn, {"upn": [None, p.upn]}) for p in new_pupils],
        action=LogEntry.Action.CREATE, user=user, source=source)
    audit += _audit_entries(
        Pupil, [(pupil_ids[p.upn], p.upn, changes_by_upn[p.upn]) for p in changed_pupils],
        action=LogEntry.Action.UPDATE, user=user, source=source)
    audit += _audit_entries(
        Enrolment, [(e.pk, f"{e.pupil_id} at {e.school_id} from {e.start_date}",
                     {"school": [None, str(e.school_id)]}) for e in new_enrolments],
        action=LogEntry.Action.CREATE, user=user, source=source)
    audit += _audit_entries(
        Enrolment, [(e.pk, f"{e.pupil_id} at {e.school_id} from {e.start_date}",
                     {"start_date": [None, str(e.start_date)]}) for e in changed_enrolments],
        action=LogEntry.Action.UPDATE, user=user, source=source)
    audit += _audit_entries(
        Characteristics, [(c.pk, f"{c.pupil_id} from {c.effective_date}", snap_changes[c.pupil_id])
                          for c in new_snaps],
        action=LogEntry.Action.CREATE, user=user, source=source)
    audit += _audit_entries(
        Characteristics, [(c.pk, f"{c.pupil_id} from {c.effective_date}", snap_changes[c.pupil_id])
                          for c in changed_snaps],
        action=LogEntry.Action.UPDATE, user=user, source=source)
    LogEntry.objects.bulk_create(audit, batch_size=2000)
    report.changes = [{"upn": p.upn, "name": f"{p.forename} {p.surname}", "action": "new"}
                      for p in new_pupils]
    report.changes += [{"upn": p.upn, "name": f"{p.forename} {p.surname}", "action": "update",
                        "fields": sorted(changes_by_upn[p.upn])} for p in changed_pupils]
