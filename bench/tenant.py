"""The benchmark's tenant: every schema migrated, the platform, tenant `bench` and its widget key.

Idempotent: run again, it changes nothing (but the call limits, when `--calls` grew). Calls of the
`bench` tenant still marked active are left over from an earlier run that was killed before its
server could close them; they are closed first, so they do not count against the limit.
"""

import subprocess
import sys
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from tenants_app.config import config_parse
from tenants_app.db import tenant_schema
from tenants_app.services import tenant_onboard
from voice.models import Persona, WidgetKey
from voice.services import calls_stale_close, widget_key_create

TENANT_ID = "bench"
AGENT_SLUG = "bench-agent"
ORIGIN = "http://bench.localhost"
KEY_LABEL = "bench"


@dataclass(frozen=True)
class BenchTenant:
    schema: str
    key: str
    origin: str
    stale_calls_closed: int


def call_limit(calls: int) -> int:
    """The tenant's call limits for `calls` callers at once: a finished call's row and its
    client's hold are released a moment after its `ended`, so the next load must not find the
    limit full of calls just ended."""
    return 2 * calls + 2


def _config(calls: int) -> dict:
    return {
        "tenant_id": TENANT_ID,
        "display_name": "Benchmark",
        "domains": ["bench.localhost"],
        "concurrent_call_limit": call_limit(calls),
        "call_limits": {"per_client": call_limit(calls)},  # every caller comes from one address
        "agent": {"slug": AGENT_SLUG, "name": "Bench agent", "language": "en"},
        "voice_settings": {"provider": "nvidia_personaplex", "voice_id": "NATF0.pt"},
        "system_prompt": "You answer the phone for a benchmark. Be brief.",
        "greeting": "Hello, benchmark line.",
        "knowledge": [{"title": "Hours", "content": "Always open."}],
    }


def _manage(*args: str) -> None:
    command = [sys.executable, "manage.py", *args]
    subprocess.run(command, cwd=settings.BASE_DIR, check=True, stdout=subprocess.DEVNULL)


def bench_tenant_prepare(*, calls: int) -> BenchTenant:
    """Migrate, set up the platform, onboard `bench` for `calls` calls; return its key."""
    _manage("migrate_schemas", "--noinput", "-v", "0")
    _manage("platform_setup")
    tenant = tenant_onboard(config=config_parse(_config(calls), source="bench")).tenant
    with tenant_schema(tenant.schema_name):
        stale = calls_stale_close(started_before=timezone.now())
        persona = Persona.objects.get(slug=AGENT_SLUG)
        keys = WidgetKey.objects.filter(persona=persona, label=KEY_LABEL, is_active=True)
        key = next((k for k in keys if k.allowed_origins == [ORIGIN]), None)
        if key is None:
            key = widget_key_create(
                tenant=tenant, persona=persona, allowed_origins=[ORIGIN], label=KEY_LABEL
            )
    return BenchTenant(tenant.schema_name, key.key, ORIGIN, stale)
