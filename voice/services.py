"""Writes to the voice models that span more than one row or schema."""

import secrets

from django.db import transaction
from django.utils import timezone

from tenants_app.models import Tenant, WidgetKeyRoute
from voice.models import Persona, WidgetKey

KEY_PREFIX = "pk_"


@transaction.atomic
def widget_key_create(
    *, tenant: Tenant, persona: Persona, allowed_origins: list[str], label: str = ""
) -> WidgetKey:
    """Create a publishable key for `persona` and its public route to `tenant`.

    Must run inside `tenant`'s schema (the route is written to the shared public table).
    """
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    widget_key = WidgetKey.objects.create(
        key=key, label=label, persona=persona, allowed_origins=allowed_origins
    )
    WidgetKeyRoute.objects.create(key=key, tenant=tenant)
    return widget_key


def widget_key_revoke(*, widget_key: WidgetKey) -> None:
    """Deactivate a key; calls with it are refused from now on."""
    if widget_key.is_active:
        widget_key.is_active = False
        widget_key.revoked_at = timezone.now()
        widget_key.save(update_fields=["is_active", "revoked_at"])


@transaction.atomic
def widget_key_delete(*, widget_key: WidgetKey) -> None:
    """Delete a key together with its public route."""
    WidgetKeyRoute.objects.filter(key=widget_key.key).delete()
    widget_key.delete()
