"""A call's recording: downloaded by its tenant's staff only (byte ranges too), and deleted from
storage once its tenant's retention is over, in every tenant, with the clock moved forward."""

import datetime as dt

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from bench.signals import tone
from nexus_project.celery import app
from tenants_app.tests.factories import PASSWORD, user_create
from voice.audio.formats.ogg_opus import OggOpusStreamEncoder
from voice.models import Call, CallStatus, Persona
from voice.recording.retention import call_recordings_expire
from voice.recording.storage import recording_storage
from voice.tasks import recordings_expire
from voice.tests.recordings import decode

JOES_HOST = "joes.localhost"
PIZZA_HOST = "pizza.localhost"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def ogg_tone(freq: float, seconds: float) -> bytes:
    encoder = OggOpusStreamEncoder(bitrate=24_000)
    return b"".join(encoder.encode(tone(freq, seconds, amplitude=0.4)) + encoder.flush())


def recorded_call(*, days_ago: float = 0, audio: bytes | None = None) -> Call:
    """An ended call of the current schema, started `days_ago`, with a recording."""
    started = timezone.now() - dt.timedelta(days=days_ago)
    call = Call.objects.create(persona=Persona.objects.order_by("id").first())
    Call.objects.filter(pk=call.pk).update(
        started_at=started, ended_at=started + dt.timedelta(seconds=2), status=CallStatus.ENDED
    )
    call.refresh_from_db()
    call.recording.save(f"{call.pk}.ogg", ContentFile(audio or ogg_tone(440, 2.0)))
    return call


def log_in(client, host: str, username: str) -> None:
    response = client.post(
        "/admin/login/", {"username": username, "password": PASSWORD}, HTTP_HOST=host
    )
    assert response.status_code == 302, f"{username} could not log in at {host}"


def download(client, call: Call, host: str = JOES_HOST, **headers):
    return client.get(f"/calls/{call.pk}/recording/", HTTP_HOST=host, headers=headers)


def body(response) -> bytes:
    return b"".join(response)  # the view streams asynchronously; the test client collects it


# Downloading


def test_joes_support_staff_get_the_recording_as_ogg_opus(client, joes, in_schema):
    audio = ogg_tone(440, 2.0)
    with in_schema(joes):
        call = recorded_call(audio=audio)
        user_create("joes-support", support=True)
    log_in(client, JOES_HOST, "joes-support")

    response = download(client, call)

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/ogg"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(audio))
    data = body(response)
    assert data == audio
    decoded = decode(data)
    assert decoded.seconds == pytest.approx(2.0, abs=0.05)
    assert decoded.frequency(0.2, 1.8) == pytest.approx(440, abs=5)


def test_a_byte_range_is_answered_with_206_and_only_those_bytes(client, joes, in_schema):
    audio = ogg_tone(660, 3.0)
    with in_schema(joes):
        call = recorded_call(audio=audio)
        user_create("joes-support", support=True)
    log_in(client, JOES_HOST, "joes-support")

    middle = download(client, call, Range="bytes=100-1099")
    tail = download(client, call, Range="bytes=-500")
    open_ended = download(client, call, Range=f"bytes={len(audio) - 10}-")
    beyond = download(client, call, Range=f"bytes={len(audio)}-")
    invalid = download(client, call, Range="bytes=900-100")

    assert middle.status_code == 206
    assert middle["Content-Range"] == f"bytes 100-1099/{len(audio)}"
    assert middle["Content-Length"] == "1000"
    assert body(middle) == audio[100:1100]
    assert tail.status_code == 206 and body(tail) == audio[-500:]
    assert open_ended.status_code == 206 and body(open_ended) == audio[-10:]
    assert beyond.status_code == 416
    assert beyond["Content-Range"] == f"bytes */{len(audio)}"
    assert invalid.status_code == 200 and body(invalid) == audio  # ignored, as RFC 9110 says


def test_nobody_else_gets_joes_recording(client, joes, pizza, in_schema):
    with in_schema(joes):
        call = recorded_call()
        unrecorded = Call.objects.create(persona=Persona.objects.order_by("id").first())
        user_create("joes-clerk")  # staff, but may not view calls
        user_create("joes-support", support=True)
    with in_schema(pizza):
        user_create("pizza-boss", superuser=True)

    anonymous = download(client, call)
    log_in(client, PIZZA_HOST, "pizza-boss")
    pizza_at_pizza = download(client, call, host=PIZZA_HOST)
    pizza_at_joes = download(client, call)  # Pizza's session means nothing on Joe's host
    log_in(client, JOES_HOST, "joes-clerk")
    clerk = download(client, call)
    log_in(client, JOES_HOST, "joes-support")
    no_recording = download(client, unrecorded)

    assert anonymous.status_code == 403
    assert pizza_at_pizza.status_code == 404  # not a call of Pizza's
    assert pizza_at_joes.status_code == 403
    assert clerk.status_code == 403
    assert no_recording.status_code == 404
    assert download(client, call).status_code == 200  # the same client, as Joe's support


# Retention


def test_recordings_past_their_tenants_retention_are_deleted_in_every_tenant(
    joes, pizza, in_schema, media
):
    pizza.recording_retention_days = 14
    pizza.save(update_fields=["recording_retention_days"])
    with in_schema(joes):  # Joe's keeps recordings 30 days
        joes_old, joes_recent = recorded_call(days_ago=20), recorded_call(days_ago=2)
    with in_schema(pizza):
        pizza_old, pizza_recent = recorded_call(days_ago=3), recorded_call(days_ago=0)
    storage = recording_storage()
    names = {call.pk: call.recording.name for call in (joes_old, joes_recent, pizza_old)}
    names[pizza_recent.pk] = pizza_recent.recording.name

    today = call_recordings_expire(now=timezone.now())
    with time_machine.travel(timezone.now() + dt.timedelta(days=12), tick=False):
        twelve_days_on = call_recordings_expire(now=timezone.now())

    assert today == 0
    assert twelve_days_on == 2
    assert not storage.exists(names[joes_old.pk])  # 32 days old for a 30-day retention
    assert not storage.exists(names[pizza_old.pk])  # 15 days old for a 14-day retention
    assert storage.exists(names[joes_recent.pk]) and storage.exists(names[pizza_recent.pk])
    assert not (media / names[joes_old.pk]).exists()
    with in_schema(joes):
        kept = dict(Call.objects.values_list("pk", "recording"))
    with in_schema(pizza):
        kept |= dict(Call.objects.values_list("pk", "recording"))
    assert kept[joes_old.pk] == "" and kept[pizza_old.pk] == ""
    assert kept[joes_recent.pk] == names[joes_recent.pk]
    assert kept[pizza_recent.pk] == names[pizza_recent.pk]


def test_the_hourly_beat_task_deletes_a_recording_once_the_clock_passes_its_retention(
    joes, in_schema
):
    with in_schema(joes):  # Joe's keeps recordings 30 days
        old, recent = recorded_call(days_ago=25), recorded_call(days_ago=1)
    old_name, recent_name = old.recording.name, recent.recording.name
    schedule = app.conf.beat_schedule["recordings-expire"]

    with time_machine.travel(timezone.now() + dt.timedelta(days=4), tick=False):
        recordings_expire.apply()  # the old one is 29 days old: kept
        kept_a_day_before = recording_storage().exists(old_name)
    with time_machine.travel(timezone.now() + dt.timedelta(days=6), tick=False):
        recordings_expire.apply()  # 31 days old: deleted; the recent one is 7 days old

    assert schedule["task"] == recordings_expire.name == "recordings.expire"
    assert schedule["schedule"] == dt.timedelta(hours=1)
    assert kept_a_day_before
    assert not recording_storage().exists(old_name)
    assert recording_storage().exists(recent_name)
    with in_schema(joes):
        assert Call.objects.get(pk=old.pk).recording.name == ""
        assert Call.objects.get(pk=recent.pk).recording.name == recent_name
