"""Pages of a tenant's host for callers: the demo business page that embeds the widget."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render

from tenants_app.demo import DEMO_KEY_LABEL
from tenants_app.http import TenantRequest
from voice.models import WidgetKey
from voice.origins import origin_allowed, origin_normalize
from voice.widget import widget_src


def _demo_key(origin: str) -> WidgetKey | None:
    """An active key whose allowed origins include `origin`, a key labelled "demo" first."""
    keys = WidgetKey.objects.filter(is_active=True, persona__is_active=True).select_related(
        "persona"
    )
    usable = [key for key in keys if origin_allowed(origin, key.allowed_origins)]
    usable.sort(key=lambda key: (key.label != DEMO_KEY_LABEL, -key.created_at.timestamp()))
    return usable[0] if usable else None


def demo(request: TenantRequest) -> HttpResponse:
    """A stand-in for the business's own web site, with the widget embedded by its demo key."""
    try:
        origin = origin_normalize(f"{request.scheme}://{request.get_host()}")
    except ValidationError:
        origin = ""
    key = _demo_key(origin) if origin else None
    context = {"tenant": request.tenant, "origin": origin, "key": key}
    if key is None:
        return render(request, "voice/demo_missing.html", context, status=404)
    context["knowledge"] = list(key.persona.knowledge.all())
    context["widget_src"] = widget_src(request)
    return render(request, "voice/demo.html", context)
