"""A persona's voice is one of its engine's: checked in the admin and at onboarding, and kept in
kind when another engine voices the call."""

import pytest
from django.core.exceptions import ValidationError

from voice.engines.names import EngineName
from voice.engines.voices import voice_error, voice_find, voice_of_kind
from voice.models import Persona

JOES = "joes.localhost"


def test_each_engine_takes_its_own_voices_only():
    assert voice_error("nvidia_personaplex", "NATM1.pt") is None
    assert voice_error("gemini_live", "Puck") is None
    assert voice_error("cascade", "Kore") is None
    assert "is not a voice of nvidia_personaplex" in voice_error("nvidia_personaplex", "Kore")
    assert "is not a voice of gemini_live" in voice_error("gemini_live", "NATF0.pt")
    assert "unknown voice engine 'elevenlabs'" in voice_error("elevenlabs", "Kore")


def test_another_engine_speaks_with_a_voice_of_the_same_kind():
    assert voice_of_kind(EngineName.CASCADE, "Puck") == "Puck"
    male = voice_find(EngineName.CASCADE, voice_of_kind(EngineName.CASCADE, "NATM1.pt"))
    female = voice_find(EngineName.CASCADE, voice_of_kind(EngineName.CASCADE, "VARF2.pt"))
    assert male is not None and not male.female
    assert female is not None and female.female


@pytest.mark.django_db
def test_a_persona_saved_with_a_voice_of_another_engine_is_refused(joes, in_schema):
    with in_schema(joes):
        persona = Persona.objects.get()
        persona.voice_provider = EngineName.GEMINI_LIVE
        with pytest.raises(ValidationError, match="is not a voice of gemini_live"):
            persona.full_clean()
        persona.voice_id = "Charon"
        persona.full_clean()


@pytest.mark.django_db
def test_the_persona_admin_page_offers_the_engines_and_their_voices(
    joes_admin_client, joes, in_schema
):
    with in_schema(joes):
        persona = Persona.objects.get()
    page = joes_admin_client.get(f"/admin/voice/persona/{persona.pk}/change/", HTTP_HOST=JOES)
    html = page.content.decode()

    for engine in EngineName:
        assert f'<option value="{engine.value}"' in html
    assert '<optgroup label="PersonaPlex">' in html
    assert '<optgroup label="Gemini Live and cascade">' in html
    assert '<option value="Kore">' in html
