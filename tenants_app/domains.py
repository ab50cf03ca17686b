"""Host names as tenants are found by: one spelling per host.

`JOES.localhost.`, `joes.localhost` and `joes.localhost:8000` name the same host, and so do a
Unicode name and its IDNA (punycode) form. Domains are stored normalized, checked for
uniqueness normalized, and looked up normalized at request time, so no tenant can claim another
one's host by spelling it differently.
"""

from django.http import HttpRequest
from django_tenants.middleware.main import TenantMainMiddleware


class BadDomain(ValueError):
    """A string that is not a host name."""


def domain_origin(domain: str, *, scheme: str, port: str) -> str:
    """The web origin of a tenant's `domain` on this server: `port` appended when given."""
    return f"{scheme}://{domain}{f':{port}' if port else ''}"


def domain_normalize(value: str) -> str:
    """`value` as a lowercase ASCII host name without a trailing dot (IDNA for Unicode)."""
    host = value.strip().rstrip(".").lower()
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise BadDomain(f"{value!r} is not a host name ({error})") from None
    if not ascii_host or any(not label for label in ascii_host.split(".")):
        raise BadDomain(f"{value!r} is not a host name")
    return ascii_host


class TenantByHostMiddleware(TenantMainMiddleware):
    """django-tenants' middleware, finding the tenant by the normalized host name."""

    @staticmethod
    def hostname_from_request(request: HttpRequest) -> str:
        host = TenantMainMiddleware.hostname_from_request(request)
        try:
            return domain_normalize(host)
        except BadDomain:
            return host  # no tenant has it: the request gets the usual "no tenant" answer
