"""One-time set-password links for a tenant's admins who have no password yet.

A link is `admin/set-password/<uidb64>/<token>/` on the tenant's own host, with a token of Django's
`default_token_generator`: it holds the user's password hash, so it stops working once the
password is set, and expires after `PASSWORD_RESET_TIMEOUT` (three days by default).
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tenants_app.db import tenant_schema
from tenants_app.domains import domain_origin
from tenants_app.models import Tenant

SET_PASSWORD_URL_NAME = "admin_set_password"


@dataclass(frozen=True)
class SetPasswordLink:
    username: str
    url: str


def set_password_links(*, tenant: Tenant, scheme: str, port: str = "") -> list[SetPasswordLink]:
    """A link for every active staff user of `tenant` without a usable password, on its primary
    host (`port` appended when given); none when the tenant has no host."""
    domain = tenant.get_primary_domain()
    if domain is None:
        return []
    origin = domain_origin(domain.domain, scheme=scheme, port=port)
    with tenant_schema(tenant.schema_name):
        users = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("id")
        return [
            SetPasswordLink(user.get_username(), origin + _path(user))
            for user in users
            if not user.has_usable_password()
        ]


def _path(user) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse(
        SET_PASSWORD_URL_NAME,
        urlconf=settings.ROOT_URLCONF,
        kwargs={"uidb64": uidb64, "token": token},
    )
