"""Who may watch a tenant's calls: resolved once, at the staff socket's handshake.

Runs on the DB thread (sync). django-tenants has no ASGI support, and sessions and users live in
each tenant's own schema: the tenant is found from the host (normalized, as HTTP finds it), the
session is read in that tenant's schema with Django's own check (a session from before a
password change no longer counts), and the user must be active staff allowed to view calls. A
session of another tenant's host is unknown in this one's schema, and so refused. The socket
must come from a page of the same host (its `Origin`), so no other site can open it with the
staff member's cookie.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest

from nexus_project.errors import ApplicationError
from tenants_app.db import tenant_schema
from tenants_app.domains import BadDomain, domain_normalize
from tenants_app.models import Domain

VIEW_CALLS = "voice.view_call"


class StaffRefused(ApplicationError):
    """A staff socket that may not watch: closed with 4403; the message says why, for logs."""

    default_code = "staff_refused"


@dataclass(frozen=True)
class StaffAccess:
    """A staff member let in: the tenant whose calls they watch, and who they are."""

    schema_name: str
    username: str


def staff_access_resolve(*, host: str, origin: str | None, session_key: str | None) -> StaffAccess:
    """The tenant whose calls the session's user may watch on `host`; StaffRefused otherwise."""
    try:
        hostname = domain_normalize(host.split(":")[0])
    except BadDomain:
        raise StaffRefused(f"no tenant at {host!r}") from None
    domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
    if domain is None or domain.tenant.schema_name == "public" or not domain.tenant.is_active:
        raise StaffRefused(f"no active tenant at {hostname!r}")
    if not origin or urlsplit(origin).netloc.lower() != host.lower():
        raise StaffRefused(f"origin {origin!r} is not the tenant's own admin")
    if not session_key:
        raise StaffRefused("no admin session")
    with tenant_schema(domain.tenant.schema_name):
        request = HttpRequest()
        request.session = SessionStore(session_key)
        user = get_user(request)
        if not (user.is_active and user.is_staff and user.has_perm(VIEW_CALLS)):
            raise StaffRefused("not a member of staff allowed to view calls")
        return StaffAccess(domain.tenant.schema_name, user.get_username())
