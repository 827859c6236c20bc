"""Reviews of interventions (a part-time timetable must be reviewed), append-only like the
chronology: the trigger function from 0002 refuses UPDATE and DELETE."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


APPEND_ONLY = """
CREATE TRIGGER interventions_interventionreview_append_only
    BEFORE UPDATE OR DELETE ON interventions_interventionreview
    FOR EACH ROW EXECUTE FUNCTION interventions_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS interventions_interventionreview_append_only
    ON interventions_interventionreview;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('interventions', '0002_append_only_and_three_year_rule'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='InterventionReview',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reviewed_on', models.DateField()),
                ('note', models.TextField()),
                ('next_review_date', models.DateField(blank=True, null=True)),
                ('recorded_at', models.DateTimeField(auto_now_add=True)),
                ('intervention', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='interventions.intervention')),
                ('recorded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['reviewed_on', 'recorded_at', 'pk'],
                'constraints': [models.CheckConstraint(condition=models.Q(('note', ''), _negated=True), name='review_note_required'), models.CheckConstraint(condition=models.Q(('next_review_date__isnull', True), ('next_review_date__gt', models.F('reviewed_on')), _connector='OR'), name='review_next_after_review')],
            },
        ),
        migrations.RunSQL(APPEND_ONLY, DROP_APPEND_ONLY),
    ]
