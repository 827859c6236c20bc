"""Two indexes fewer for the nightly job to write: PupilSummary.school and BandHistory.pupil
had single-column indexes that summary_school_band and one_band_change_per_pupil_day already
lead with (foreign-key lookups and cascades use those)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('attendance', '0009_counts_by_code_pair'),
        ('pupils', '0001_initial'),
        ('schools', '0002_dfe_number_unique_when_open'),
    ]

    operations = [
        migrations.AlterField(
            model_name='bandhistory',
            name='pupil',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='band_history', to='pupils.pupil'),
        ),
        migrations.AlterField(
            model_name='pupilsummary',
            name='school',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='pupil_summaries', to='schools.school'),
        ),
    ]
