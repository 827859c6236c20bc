"""A partial index of the marks that hold an N: the nightly stale-N rule reads these few rows
instead of scanning the year's marks. Kept outside SessionMark.Meta (the import path never
reads it); it costs an import only for its N rows."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("attendance", "0007_sessionmark_natural_pk")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS sessionmark_n_marks ON attendance_sessionmark "
            "(school_id, date) WHERE am = 'N' OR pm = 'N'",
            reverse_sql="DROP INDEX IF EXISTS sessionmark_n_marks",
        ),
    ]
