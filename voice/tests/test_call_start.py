"""Opening a call's row: the tenant's concurrent-call limit, counted in its own schema only."""

import datetime as dt

import pytest
from django.db import ProgrammingError
from django.utils import timezone

from tenants_app.models import Tenant
from voice.models import Call, CallMode, CallStatus, EndReason, Persona
from voice.monitor.selectors import calls_live
from voice.services import MAX_CALL_DURATION, call_end, call_start


def _start(tenant: Tenant) -> str | None:
    persona = Persona.objects.get()
    return call_start(tenant_id=tenant.pk, persona_id=persona.pk, widget_key_id=None, mode="text")


def _free_slots(tenant: Tenant, free: int) -> None:
    """Set the tenant's limit `free` calls above its live calls (other tests' calls may be live:
    call tests commit their rows). Runs in the tenant's schema."""
    live = calls_live().count()
    Tenant.objects.filter(pk=tenant.pk).update(concurrent_call_limit=live + free)


def test_the_row_has_the_models_defaults_in_every_field(joes, in_schema):
    with in_schema(joes):
        call_id = _start(joes)
        row = Call.objects.get(pk=call_id)
        fresh = Call(persona_id=row.persona_id, mode=CallMode.TEXT)

    assert row.mode == CallMode.TEXT and row.status == CallStatus.ACTIVE
    assert abs(row.started_at - timezone.now()) < dt.timedelta(minutes=1)
    for field in Call._meta.concrete_fields:
        if field.name not in {"id", "started_at"}:
            assert getattr(row, field.attname) == getattr(fresh, field.attname), field.name


def test_calls_are_opened_up_to_the_limit_and_an_ended_one_frees_its_slot(joes, in_schema):
    with in_schema(joes):
        _free_slots(joes, 2)
        first, second, refused = _start(joes), _start(joes), _start(joes)
        call_end(call_id=first, reason=EndReason.CALLER_HANGUP)
        after_the_end = _start(joes)

    assert first and second and first != second
    assert refused is None
    assert after_the_end is not None


def test_a_call_left_active_past_the_maximum_duration_holds_no_slot(joes, in_schema):
    with in_schema(joes):
        _free_slots(joes, 1)
        left = _start(joes)
        started_long_ago = timezone.now() - MAX_CALL_DURATION - dt.timedelta(minutes=1)
        Call.objects.filter(pk=left).update(started_at=started_long_ago)
        opened = _start(joes)
        refused = _start(joes)

    assert opened is not None and refused is None


def test_another_tenants_live_calls_do_not_count(joes, pizza, in_schema):
    with in_schema(pizza):
        _free_slots(pizza, 1)
        pizzas = _start(pizza)
    with in_schema(joes):
        _free_slots(joes, 1)
        joes_call = _start(joes)

    assert pizzas is not None and joes_call is not None
    with in_schema(pizza):
        assert Call.objects.filter(pk=joes_call).count() == 0


def test_an_unknown_tenant_is_an_error_not_a_call(joes, in_schema):
    with in_schema(joes), pytest.raises(ProgrammingError, match="no tenant"):
        call_start(
            tenant_id=-1, persona_id=Persona.objects.get().pk, widget_key_id=None, mode="text"
        )
