"""Tenant-schema models: personas and their knowledge, widget keys, calls and transcripts."""

import uuid

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from tenants_app.db import current_schema
from voice.engines.names import EngineName
from voice.engines.voices import ALL_VOICE_IDS, DEFAULT_VOICES, voice_choices, voice_error


class Persona(models.Model):
    """The agent a caller talks to: who it is, how it sounds, what it knows."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=63, unique=True)
    system_prompt = models.TextField(help_text="The agent's role and manner, in plain words.")
    greeting = models.CharField(max_length=300, blank=True)
    voice_provider = models.CharField(
        "voice engine",
        max_length=32,
        choices=EngineName.choices,
        default=EngineName.PERSONAPLEX,
        help_text="What speaks for the agent. Without a PersonaPlex sidecar or a Gemini key, "
        "calls are voiced by the offline cascade.",
    )
    voice_id = models.CharField(
        "voice",
        max_length=32,
        choices=voice_choices(),
        default=DEFAULT_VOICES[EngineName.PERSONAPLEX],
        help_text="One of the chosen engine's voices (the cascade speaks with Gemini's).",
    )
    language = models.CharField(max_length=16, default="en")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(voice_id__in=ALL_VOICE_IDS), name="persona_voice_id_known"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if error := voice_error(self.voice_provider, self.voice_id):
            raise ValidationError({"voice_id": error})


class KnowledgeItem(models.Model):
    """A fact the persona may use when answering (hours, prices, policies)."""

    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="knowledge")
    title = models.CharField(max_length=200)
    content = models.TextField()
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class WidgetKey(models.Model):
    """A publishable key that lets a web site's widget call one persona."""

    key = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(max_length=100, blank=True)
    persona = models.ForeignKey(Persona, on_delete=models.CASCADE, related_name="widget_keys")
    allowed_origins = models.JSONField(
        default=list, help_text="Origins allowed to use the key, e.g. https://example.com"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_active=True) | models.Q(revoked_at__isnull=False),
                name="widget_key_revoked_has_time",
            )
        ]

    def __str__(self) -> str:
        return self.label or self.key


class CallMode(models.TextChoices):
    VOICE = "voice", "Voice"
    TEXT = "text", "Text"


class CallStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class EndReason(models.TextChoices):
    """Why a call ended: stored on the call and sent to the caller in `ended`."""

    CALLER_HANGUP = "caller_hangup", "The caller hung up"
    CALLER_DISCONNECTED = "caller_disconnected", "The caller's connection dropped"
    AGENT_ENDED = "agent_ended", "The agent ended the call"
    TIMEOUT = "timeout", "Nobody spoke or typed for the idle timeout"
    MAX_DURATION = "max_duration", "The call reached its maximum duration"
    BAD_AUDIO = "bad_audio", "The caller's audio could not be decoded"
    ERROR = "error", "An error on the server"
    SERVER_SHUTDOWN = "server_shutdown", "The server shut down"
    SERVER_RESTART = "server_restart", "Closed after a server restart"


def call_recording_path(call: "Call", filename: str) -> str:
    """Where a call's recording is stored: under its tenant's schema, named by the call."""
    return f"recordings/{current_schema()}/{call.started_at:%Y/%m}/{filename}"


class Call(models.Model):
    """One conversation between a caller and a persona."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    persona = models.ForeignKey(Persona, on_delete=models.PROTECT, related_name="calls")
    widget_key = models.ForeignKey(
        WidgetKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    mode = models.CharField(max_length=8, choices=CallMode.choices, default=CallMode.VOICE)
    status = models.CharField(max_length=8, choices=CallStatus.choices, default=CallStatus.ACTIVE)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, choices=EndReason.choices, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    needs_human = models.BooleanField(
        default=False, help_text="The agent handed the caller over to a person."
    )
    analysis = models.JSONField(
        null=True, blank=True, help_text="Post-call analysis: summary, intent, sentiment..."
    )
    recording = models.FileField(
        upload_to=call_recording_path,
        blank=True,
        help_text="Both sides of the call in one Opus file, from the call's start.",
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=CallStatus.ACTIVE, ended_at__isnull=True)
                | models.Q(status=CallStatus.ENDED, ended_at__isnull=False),
                name="call_ended_iff_end_time",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="call_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        started = timezone.localtime(self.started_at)  # the tenant's time, in its admin
        return f"{self.persona} {started:%Y-%m-%d %H:%M}"


class Role(models.TextChoices):
    CALLER = "caller", "Caller"
    AGENT = "agent", "Agent"
    TOOL = "tool", "Tool"
    SYSTEM = "system", "System"


class TranscriptEntry(models.Model):
    """One final utterance of a call, stored the moment it is final."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="transcript")
    sequence = models.PositiveIntegerField()
    role = models.CharField(max_length=8, choices=Role.choices)
    text = models.TextField()
    start_ms = models.PositiveIntegerField(validators=[MinValueValidator(0)])
    end_ms = models.PositiveIntegerField()
    interrupted = models.BooleanField(default=False)

    class Meta:
        ordering = ["call", "sequence"]
        verbose_name_plural = "transcript entries"
        indexes = [  # the words said, searched by support staff (`voice.selectors`)
            GinIndex(SearchVector("text", config="english"), name="transcript_text_search")
        ]
        constraints = [
            models.UniqueConstraint(fields=["call", "sequence"], name="transcript_sequence_unique"),
            models.CheckConstraint(
                condition=models.Q(end_ms__gte=models.F("start_ms")),
                name="transcript_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"
