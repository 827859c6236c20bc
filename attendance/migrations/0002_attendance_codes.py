"""Reference data: the DfE 2024 register codes, the withdrawn codes and the legacy mapping.

Source: DfE "Working together to improve school attendance" (August 2024) and the School
Attendance (Pupil Registration) (England) Regulations 2024, in force from 19 August 2024, i.e.
from academic year 2024/25 (first_year 2024). The data lives here, not imported from app code,
so the migration means the same thing forever.

One-line reference-data choice: Q (unable to attend: lack of access arrangements) has no column
in DfE's 2024/25 statistics; it sits with the "unable to attend" codes as not possible.
"""

from django.db import migrations

P, AA, AU, UN, NP = "present", "approved_activity", "authorised", "unauthorised", "not_possible"
NEW = 2024  # introduced by the 2024 regulations

# code, meaning, category, possible, attended, first_year, last_year
CODES = [
    ("/", "Present (AM)", P, True, True, None, None),
    ("\\", "Present (PM)", P, True, True, None, None),
    ("L", "Late, arrived before the register closed", P, True, True, None, None),
    ("K", "Attending education provision arranged by the local authority", AA, True, True, NEW, None),
    ("V", "Attending an educational visit or trip", AA, True, True, None, None),
    ("P", "Participating in a supervised sporting activity", AA, True, True, None, None),
    ("W", "Attending work experience", AA, True, True, None, None),
    ("B", "Attending any other approved educational activity", AA, True, True, None, None),
    ("C1", "Leave of absence: regulated performance or regulated employment abroad", AU, True, False, NEW, None),
    ("M", "Leave of absence: medical or dental appointment", AU, True, False, None, None),
    ("J1", "Leave of absence: interview", AU, True, False, NEW, None),
    ("S", "Leave of absence: study leave (public examinations)", AU, True, False, None, None),
    ("C2", "Leave of absence: part-time timetable", AU, True, False, NEW, None),
    ("C", "Leave of absence: exceptional circumstances", AU, True, False, None, None),
    ("T", "Parent travelling for occupational purposes", AU, True, False, None, None),
    ("R", "Religious observance", AU, True, False, None, None),
    ("I", "Illness (not medical or dental appointment)", AU, True, False, None, None),
    ("E", "Suspended or permanently excluded, no alternative provision made", AU, True, False, None, None),
    ("G", "Holiday not granted by the school", UN, True, False, None, None),
    ("N", "Reason for absence not yet established", UN, True, False, None, None),
    ("O", "Absent in other or unknown circumstances", UN, True, False, None, None),
    ("U", "Arrived in school after the register closed", UN, True, False, None, None),
    ("D", "Dual registered: attending the other school", NP, False, False, None, None),
    ("X", "Not of compulsory school age, not required to attend", NP, False, False, None, None),
    ("Q", "Unable to attend: lack of access arrangements", NP, False, False, NEW, None),
    ("Y1", "Unable to attend: transport not available", NP, False, False, NEW, None),
    ("Y2", "Unable to attend: widespread travel disruption", NP, False, False, NEW, None),
    ("Y3", "Unable to attend: part of the school premises closed", NP, False, False, NEW, None),
    ("Y4", "Unable to attend: whole school site unexpectedly closed", NP, False, False, NEW, None),
    ("Y5", "Unable to attend: criminal justice detention", NP, False, False, NEW, None),
    ("Y6", "Unable to attend: public health guidance or law", NP, False, False, NEW, None),
    ("Y7", "Unable to attend: any other unavoidable cause", NP, False, False, NEW, None),
    ("Z", "Pupil not on admission register", NP, False, False, None, None),
    ("#", "Planned whole-school closure", NP, False, False, None, None),
    # Withdrawn codes, valid only for their own years; stored as written, never recoded.
    ("H", "Authorised holiday (withdrawn August 2024; C is used now)", AU, True, False, None, 2023),
    ("F", "Agreed extended family holiday (withdrawn September 2013)", AU, True, False, None, 2012),
    ("J", "Interview (before 2024/25: counted as an approved educational activity, attended)", AA, True, True, None, 2023),
    ("Y", "Enforced closure or unable to attend in exceptional circumstances (before 2024/25; now Y1-Y7)", NP, False, False, None, 2023),
]

# code, first_year, last_year, stored_as, meaning then, note
LEGACY = [
    ("H", None, 2023, "H", "Authorised holiday (term-time leave agreed by the head)",
     "Kept as H: authorised absence (possible, not attended). Since 2024/25 leave of this kind is C."),
    ("F", None, 2012, "F", "Agreed extended family holiday",
     "Kept as F: authorised absence. Withdrawn September 2013."),
    ("J", None, 2023, "J", "Interview (approved educational activity)",
     "Kept as J and counted as ATTENDED for its own year, as it was then; not recoded to J1, "
     "which since 2024/25 is an authorised absence."),
    ("Y", None, 2023, "Y", "Enforced closure / exceptional circumstances (not possible)",
     "Kept as Y: not a possible session. Since 2024/25 the reason is recorded as Y1-Y7."),
    ("B", None, 2023, "B", "Educated off site (not dual registration)",
     "Kept as B: approved educational activity, attended, as the 2024 B."),
    ("C", None, 2023, "C", "Other authorised circumstances",
     "Kept as C: authorised absence, as the 2024 C (which is now split into C, C1 and C2)."),
]


def load(apps, schema_editor):
    AttendanceCode = apps.get_model("attendance", "AttendanceCode")
    LegacyCodeMapping = apps.get_model("attendance", "LegacyCodeMapping")
    for code, meaning, category, possible, attended, first, last in CODES:
        AttendanceCode.objects.update_or_create(
            code=code,
            defaults=dict(meaning=meaning, category=category, counts_as_possible=possible,
                          counts_as_attended=attended, first_year=first, last_year=last),
        )
    for code, first, last, stored_as, meaning_then, note in LEGACY:
        LegacyCodeMapping.objects.update_or_create(
            code=code, last_year=last,
            defaults=dict(first_year=first, stored_as=stored_as, meaning_then=meaning_then,
                          note=note),
        )


def unload(apps, schema_editor):
    apps.get_model("attendance", "LegacyCodeMapping").objects.all().delete()
    apps.get_model("attendance", "AttendanceCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("attendance", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
