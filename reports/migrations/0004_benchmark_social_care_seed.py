"""Absence of children open to children's social care, 2022/23, England and the South West, from
the Bath and North East Somerset attendance strategy (seed 001): DfE "Outcomes for children in
need, including children looked after by local authorities", full year 2022/23.

The DfE groups map to the dashboards' groups: CINO (children in need at 31 March, other than on a
protection plan or looked after) -> ``cin:yes``; CPPO (on a child protection plan at 31 March,
not looked after) -> ``cp:yes``; CLA (looked after for 12 months at 31 March) -> ``cla:yes``. No
overall absence rate is published for them, so the 2020/21 overall rates (0002) stay the latest.
Adds the "region" area (the South West) and the unauthorised absence measure the table has."""

from decimal import Decimal

from django.db import migrations, models

SOURCE = (
    "Bath and North East Somerset attendance strategy, 'What does our data tell us?' (DfE "
    "outcomes for children in need, including children looked after, full academic year "
    "2022/23; {group})"
)
GROUPS = {  # breakdown: (DfE group, {measure: (England, South West)})
    "cin:yes": ("CINO at 31 March", {"pa": ("48.8", "53.0"), "sa": ("10.4", "13.8"),
                                     "unauthorised": ("8.2", "9.2")}),
    "cla:yes": ("CLA 12 months at 31 March", {"pa": ("20.0", "23.4"), "sa": ("4.9", "6.1"),
                                              "unauthorised": ("3.0", "2.9")}),
    "cp:yes": ("CPPO at 31 March", {"pa": ("57.5", "61.8"), "sa": ("14.8", "18.9"),
                                    "unauthorised": ("12.6", "13.1")}),
}
YEAR = "2022/23"


def rows():
    for breakdown, (group, measures) in GROUPS.items():
        for measure, values in measures.items():
            for area, value in zip(("national", "region"), values, strict=True):
                yield dict(measure=measure, breakdown=breakdown, area=area, academic_year=YEAR,
                           period="full_year", value=Decimal(value),
                           source=SOURCE.format(group=group))


def forwards(apps, schema_editor):
    BenchmarkFigure = apps.get_model("reports", "BenchmarkFigure")
    for row in rows():
        key = {k: row.pop(k) for k in ("measure", "breakdown", "area", "academic_year", "period")}
        BenchmarkFigure.objects.update_or_create(**key, defaults=row)


def backwards(apps, schema_editor):
    BenchmarkFigure = apps.get_model("reports", "BenchmarkFigure")
    BenchmarkFigure.objects.filter(
        source__startswith="Bath and North East Somerset attendance strategy").delete()
    BenchmarkFigure.objects.filter(area="region").delete()  # the choice goes with this migration
    BenchmarkFigure.objects.filter(measure="unauthorised").delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0003_monthly_report_term_summary"),
    ]

    operations = [
        migrations.AlterField(
            model_name="benchmarkfigure",
            name="area",
            field=models.CharField(choices=[
                ("national", "National (England)"),
                ("statistical_neighbour", "Statistical neighbours"),
                ("region", "Region (South West)")], max_length=30),
        ),
        migrations.AlterField(
            model_name="benchmarkfigure",
            name="measure",
            field=models.CharField(choices=[
                ("absence", "Overall absence rate"), ("pa", "Persistent absence rate"),
                ("sa", "Severe absence rate"), ("unauthorised", "Unauthorised absence rate")],
                max_length=12),
        ),
        migrations.RunPython(forwards, backwards),
    ]
