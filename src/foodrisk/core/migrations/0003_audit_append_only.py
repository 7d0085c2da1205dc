"""On PostgreSQL the database itself refuses UPDATE, DELETE and TRUNCATE on the audit log.

The application never changes an entry (the ORM refuses too); this stops it at the database for SQL that
bypasses the ORM. TRUNCATE is let through only with `SET foodrisk.audit_maintenance = on` in the session, the
deliberate switch for wiping a test or staging database (Django's flush truncates every table). A table owner
can still drop the trigger: that is what the keyed chain and the checkpoints outside the database catch.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION foodrisk_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND current_setting('foodrisk.audit_maintenance', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER core_auditentry_append_only BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION foodrisk_audit_append_only();
CREATE TRIGGER core_auditentry_no_truncate BEFORE TRUNCATE ON core_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION foodrisk_audit_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS core_auditentry_no_truncate ON core_auditentry;
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
DROP FUNCTION IF EXISTS foodrisk_audit_append_only();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: RAISE uses a literal %

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0002_exportrequest")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD), elidable=False)]
