"""`voice_call_open`: a call's admission and its row in one statement, so one round trip.

It locks the tenant's row until the statement ends, so starts in any process take turns. Each
statement of a (volatile) function sees the rows committed before it began, so the count of live
calls holds the call that a start waited for. The row gets the model's defaults (a test holds
this function to them). A tenant id with no row is an error, never a call with no limit.
"""

from django.db import migrations

CALL_OPEN = """
CREATE FUNCTION voice_call_open(
    tenant bigint,
    new_id uuid,
    persona bigint,
    widget_key bigint,
    new_mode varchar,
    started timestamptz,
    live_since timestamptz
) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    call_limit integer;
BEGIN
    SELECT concurrent_call_limit INTO call_limit FROM tenants_app_tenant
        WHERE id = tenant FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no tenant %', tenant;
    END IF;
    IF (SELECT count(*) FROM voice_call
            WHERE status = 'active' AND started_at >= live_since) >= call_limit THEN
        RETURN false;
    END IF;
    INSERT INTO voice_call (
        id, persona_id, widget_key_id, mode, status, started_at,
        end_reason, metrics, needs_human, recording
    ) VALUES (new_id, persona, widget_key, new_mode, 'active', started, '', '{}', false, '');
    RETURN true;
END
$$
"""

CALL_OPEN_DROP = "DROP FUNCTION voice_call_open"


class Migration(migrations.Migration):
    dependencies = [("voice", "0006_call_recording_transcript_search")]

    operations = [migrations.RunSQL(CALL_OPEN, CALL_OPEN_DROP)]
