"""`{% call_dashboard %}`: the tenant's calls dashboard, for users who may view calls."""

from django import template

from voice.dashboard import dashboard_build

register = template.Library()


@register.inclusion_tag("admin/voice/dashboard.html", takes_context=True)
def call_dashboard(context: template.Context) -> dict:
    request = context["request"]
    if not request.user.has_perm("voice.view_call"):
        return {"dashboard": None}
    return {"dashboard": dashboard_build(timezone=request.tenant.timezone)}
