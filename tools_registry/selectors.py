"""Reads of the tool records: run inside the tenant's schema."""

from tools_registry.models import ToolInvocation


def invocation_get(*, invocation_id: int) -> ToolInvocation:
    return ToolInvocation.objects.get(pk=invocation_id)
