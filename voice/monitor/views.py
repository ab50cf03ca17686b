"""The "Live calls" page of a tenant's admin: its calls in progress, updated live.

The page itself is static; its script (`static/nexus/monitor.js`) fills it from the staff
socket. Routed in `nexus_project.urls_tenant` behind the admin's login.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse

from voice.monitor.access import VIEW_CALLS


def live_calls(request: HttpRequest) -> TemplateResponse:
    if not request.user.has_perm(VIEW_CALLS):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Live calls"}
    return TemplateResponse(request, "admin/monitor.html", context)
