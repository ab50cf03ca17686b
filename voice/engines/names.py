"""The voice engines by name: a persona's `voice_settings.provider`."""

from django.db import models


class EngineName(models.TextChoices):
    PERSONAPLEX = "nvidia_personaplex", "NVIDIA PersonaPlex (speech-to-speech, on a GPU)"
    GEMINI_LIVE = "gemini_live", "Gemini Live (native audio, with tools)"
    CASCADE = "cascade", "Cascade (speech-to-text, the agent, text-to-speech)"
