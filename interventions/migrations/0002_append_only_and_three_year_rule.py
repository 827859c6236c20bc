"""Database guards the ORM cannot express.

1. The chronology and the legal-route records are append-only: UPDATE and DELETE raise.
   (TRUNCATE, used by test teardown and never by the portal, is not a row trigger.)
2. Penalty notices, three-year rule: a live (not withdrawn) second notice lies within three years
   of its period's start, and two live first notices to the same parent for the same child never
   have overlapping three-year periods, so a "third" cannot be slipped in as a new first.
"""

from django.db import migrations

APPEND_ONLY = [
    "interventions_chronologyentry",
    "interventions_officerconsultation",
    "interventions_alternativesconsidered",
    "interventions_socialworkerdecision",
    "interventions_legaldecision",
]

FORWARD = """
CREATE FUNCTION interventions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: add a new entry instead of changing or deleting one',
        TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
""" + "".join(
    f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION interventions_append_only();
"""
    for table in APPEND_ONLY
) + """
CREATE FUNCTION interventions_penalty_three_years() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'withdrawn' THEN
        RETURN NEW;
    END IF;
    IF NEW.sequence = 2 AND NEW.issued_on >= (NEW.period_start + interval '3 years')::date THEN
        RAISE EXCEPTION 'a second penalty notice must be within three years of the first'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.sequence = 1 AND EXISTS (
        SELECT 1 FROM interventions_penaltynotice p
        WHERE p.pupil_id = NEW.pupil_id AND p.parent_key = NEW.parent_key
          AND p.id IS DISTINCT FROM NEW.id AND p.sequence = 1 AND p.status <> 'withdrawn'
          AND daterange(p.period_start, (p.period_start + interval '3 years')::date)
              && daterange(NEW.period_start, (NEW.period_start + interval '3 years')::date)
    ) THEN
        RAISE EXCEPTION 'a first penalty notice inside another three-year period would be a third'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER interventions_penaltynotice_three_years
    BEFORE INSERT OR UPDATE ON interventions_penaltynotice
    FOR EACH ROW EXECUTE FUNCTION interventions_penalty_three_years();
"""

BACKWARD = "".join(
    f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in APPEND_ONLY
) + """
DROP FUNCTION IF EXISTS interventions_append_only();
DROP TRIGGER IF EXISTS interventions_penaltynotice_three_years ON interventions_penaltynotice;
DROP FUNCTION IF EXISTS interventions_penalty_three_years();
"""


class Migration(migrations.Migration):
    dependencies = [("interventions", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
