"""National and statistical-neighbour figures from the Plymouth Attendance Strategy 2023-2026
(seed 000): DfE pupil absence statistics, full year 2020/21 and autumn term 2021/22."""

from decimal import Decimal

from django.db import migrations

FULL_YEAR_SOURCE = (
    "Plymouth Attendance Strategy 2023-2026, 'Attendance in Plymouth' (DfE pupil absence in "
    "schools in England, full academic year 2020/21)"
)
ETHNICITY_SOURCE = (
    "Plymouth Attendance Strategy 2023-2026, Table 2: Major ethnicities absence rates "
    "(DfE, 2020/21)"
)
AUTUMN_SOURCE = (
    "Plymouth Attendance Strategy 2023-2026, DfE published attendance data (May 2022), "
    "autumn term 2021/22"
)
AUTUMN_PA_SOURCE = AUTUMN_SOURCE + "; persistent absence as published (percentage of the absent cohort)"

N, SN = "national", "statistical_neighbour"

# (measure, breakdown, area, value) for 2020/21, full year
FULL_YEAR = [
    ("absence", "all", N, "4.6"), ("absence", "all", SN, "4.8"),
    ("absence", "phase:primary", N, "3.6"), ("absence", "phase:primary", SN, "3.7"),
    ("absence", "phase:secondary", N, "5.5"), ("absence", "phase:secondary", SN, "5.7"),
    ("absence", "phase:special", N, "15.2"), ("absence", "phase:special", SN, "15.5"),
    ("absence", "phase:pru", N, "33.7"),
    ("absence", "fsm:yes", N, "7.8"), ("absence", "fsm:no", N, "3.7"),
    ("absence", "ehcp:yes", N, "13.1"), ("absence", "sen_support:yes", N, "6.5"),
    ("absence", "cin:yes", N, "11.8"), ("absence", "cp:yes", N, "14.8"),
    ("absence", "cla:yes", N, "5.1"),
    ("absence", "sex:F", N, "4.5"), ("absence", "sex:M", N, "4.7"),
    ("absence", "year_group:6", N, "4.1"), ("absence", "year_group:7", N, "4.5"),
    ("pa", "all", N, "12.1"), ("pa", "all", SN, "12.8"),
    ("pa", "phase:primary", N, "8.8"), ("pa", "phase:primary", SN, "9.0"),
    ("pa", "phase:secondary", N, "14.8"), ("pa", "phase:secondary", SN, "15.6"),
    ("pa", "phase:special", N, "48.9"), ("pa", "phase:special", SN, "51.9"),
    ("pa", "phase:pru", N, "74.5"),
    ("pa", "fsm:yes", N, "24.4"), ("pa", "fsm:no", N, "9.3"),
    ("pa", "ehcp:yes", N, "46.2"), ("pa", "sen_support:yes", N, "18.9"),
    ("pa", "cin:yes", N, "33.3"), ("pa", "cp:yes", N, "41.6"), ("pa", "cla:yes", N, "30.4"),
    ("pa", "sex:F", N, "11.7"), ("pa", "sex:M", N, "12.4"),
    ("sa", "all", N, "1.1"), ("sa", "all", SN, "1.2"),
    ("sa", "phase:primary", N, "0.7"), ("sa", "phase:primary", SN, "0.7"),
    ("sa", "phase:secondary", N, "1.5"), ("sa", "phase:secondary", SN, "1.5"),
    ("sa", "phase:special", N, "5.6"), ("sa", "phase:special", SN, "6.3"),
    ("sa", "phase:pru", N, "27.8"),
    ("sa", "fsm:yes", N, "1.7"), ("sa", "fsm:no", N, "0.6"),
    ("sa", "ehcp:yes", N, "4.5"), ("sa", "sen_support:yes", N, "1.7"),
    ("sa", "sex:F", N, "0.8"), ("sa", "sex:M", N, "0.9"),
]

# Table 2, national columns: absence, PA, SA
ETHNICITY = {
    "white_british": ("4.6", "12.1", "1.2"),
    "mixed": ("5.0", "13.7", "1.3"),
    "asian": ("4.7", "11.5", "0.7"),
    "black": ("3.8", "9.4", "0.9"),
    "chinese": ("2.1", "4.5", "0.6"),
    "other": ("4.6", "11.6", "1.2"),
    "unclassified": ("6.0", "18.1", "2.6"),
}

# Autumn term 2021/22 by phase: (statistical neighbour, national)
AUTUMN = {
    "absence": {"all": ("7.4", "6.9"), "phase:primary": ("6.0", "5.7"),
                "phase:secondary": ("8.8", "8.2"), "phase:special": ("12.7", "12.8")},
    "pa": {"all": ("26.2", "23.5"), "phase:primary": ("21.4", "19.5"),
           "phase:secondary": ("31.2", "27.7"), "phase:special": ("39.1", "39.4")},
}


def rows():
    for measure, breakdown, area, value in FULL_YEAR:
        yield dict(measure=measure, breakdown=breakdown, area=area, academic_year="2020/21",
                   period="full_year", value=Decimal(value), source=FULL_YEAR_SOURCE)
    for group, values in ETHNICITY.items():
        for measure, value in zip(("absence", "pa", "sa"), values, strict=True):
            yield dict(measure=measure, breakdown=f"ethnicity:{group}", area=N,
                       academic_year="2020/21", period="full_year", value=Decimal(value),
                       source=ETHNICITY_SOURCE)
    for measure, table in AUTUMN.items():
        for breakdown, (sn, nat) in table.items():
            for area, value in ((SN, sn), (N, nat)):
                yield dict(measure=measure, breakdown=breakdown, area=area,
                           academic_year="2021/22", period="autumn_term", value=Decimal(value),
                           source=AUTUMN_PA_SOURCE if measure == "pa" else AUTUMN_SOURCE)


def forwards(apps, schema_editor):
    BenchmarkFigure = apps.get_model("reports", "BenchmarkFigure")
    for row in rows():
        key = {k: row.pop(k) for k in ("measure", "breakdown", "area", "academic_year", "period")}
        BenchmarkFigure.objects.update_or_create(**key, defaults=row)


def backwards(apps, schema_editor):
    apps.get_model("reports", "BenchmarkFigure").objects.filter(
        source__startswith="Plymouth Attendance Strategy 2023-2026").delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
