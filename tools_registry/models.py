"""Tenant-schema models: which tools a persona may use, and every use of a tool in a call."""

from django.db import models


class ToolEnablement(models.Model):
    """A tool switched on for a persona, with this tenant's settings for it."""

    persona = models.ForeignKey("voice.Persona", on_delete=models.CASCADE, related_name="tools")
    tool_name = models.CharField(max_length=64)
    settings = models.JSONField(default=dict, blank=True)
    is_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["tool_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["persona", "tool_name"], name="tool_enablement_unique_per_persona"
            )
        ]

    def __str__(self) -> str:
        return self.tool_name


class InvocationStatus(models.TextChoices):
    RUNNING = "running", "Running"
    REJECTED = "rejected", "Rejected (unknown tool or invalid arguments)"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    TIMED_OUT = "timed_out", "Timed out"


class ToolInvocation(models.Model):
    """One call of a tool by the agent: what it was asked, what it answered, how long it took."""

    call = models.ForeignKey(
        "voice.Call", on_delete=models.CASCADE, related_name="tool_invocations"
    )
    tool_name = models.CharField(max_length=64)
    arguments = models.JSONField(default=dict)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=InvocationStatus.choices, default=InvocationStatus.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status=InvocationStatus.RUNNING)
                | models.Q(finished_at__isnull=False, duration_ms__isnull=False),
                name="tool_invocation_finished_has_duration",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tool_name} ({self.status})"


class Booking(models.Model):
    """An appointment taken by the calendar tools: one booking per slot of a calendar."""

    calendar = models.CharField(max_length=64, default="main")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    customer_name = models.CharField(max_length=200)
    service = models.CharField(max_length=200, blank=True)
    call = models.ForeignKey(
        "voice.Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    invocation = models.OneToOneField(
        ToolInvocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="booking"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "starts_at"], name="booking_slot_unique"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_name} {self.starts_at:%Y-%m-%d %H:%M}"


class TenantSecret(models.Model):
    """A value a tool may use but nobody reads back (an API token for `http_request` headers)."""

    name = models.SlugField(max_length=64, unique=True)
    value = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
