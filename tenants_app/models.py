"""Shared (public schema) models: the tenants, their domains, and the widget-key routes."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from tenants_app.opening_hours import opening_hours_validate


def timezone_validate(name: str) -> None:
    """An IANA time zone name, e.g. America/New_York."""
    if name not in zoneinfo.available_timezones():
        raise ValidationError(f"{name!r} is not a time zone of the IANA database")


class Tenant(TenantMixin):
    """A business on the platform; its data lives in its own Postgres schema."""

    name = models.CharField(max_length=200, help_text="The business's name, as callers know it.")
    slug = models.SlugField(max_length=63, unique=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[timezone_validate],
        help_text="Where the business is: dates callers say, bookings and calls are in its time.",
    )
    is_active = models.BooleanField(default=True)
    concurrent_call_limit = models.PositiveIntegerField(default=10)
    calls_per_client_limit = models.PositiveIntegerField(
        default=3, help_text="Calls one client address may hold open at once."
    )
    call_idle_timeout_seconds = models.PositiveIntegerField(
        default=180, help_text="A call with no caller speech and no typed text this long ends."
    )
    call_max_duration_seconds = models.PositiveIntegerField(
        default=3600, help_text="No call lasts longer."
    )
    opening_hours = models.JSONField(
        default=dict,
        blank=True,
        validators=[opening_hours_validate],
        help_text="When the business is open, in its time zone: the calendar tools take bookings "
        "in these hours and the agent answers with them.",
    )
    recording_enabled = models.BooleanField(
        "record voice calls",
        default=False,
        help_text="Both sides of every voice call in one audio file; callers are told before "
        "the agent's first word.",
    )
    recording_retention_days = models.PositiveIntegerField(
        default=30, help_text="Recordings older than this are deleted."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(concurrent_call_limit__gte=1),
                name="tenant_concurrent_call_limit_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    calls_per_client_limit__gte=1,
                    call_idle_timeout_seconds__gte=1,
                    call_max_duration_seconds__gte=1,
                ),
                name="tenant_call_limits_usable",
            ),
            models.CheckConstraint(
                condition=models.Q(recording_retention_days__gte=1),
                name="tenant_recording_retention_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BusinessSettings(Tenant):
    """A tenant as its own admin edits it: its name and its time zone."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "business settings"


class Domain(DomainMixin):
    """A host name that resolves to a tenant (e.g. `joes.localhost`)."""

    def __str__(self) -> str:
        return self.domain


class WidgetKeyRoute(models.Model):
    """Which tenant a publishable widget key belongs to.

    The key itself (persona, origins, active flag) lives in the tenant's schema; this row lets the
    call endpoint find that schema from the key alone, without scanning every schema.
    """

    key = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="key_routes")

    def __str__(self) -> str:
        return f"{self.key} -> {self.tenant.slug}"
