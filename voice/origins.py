"""Web origins (`scheme://host[:port]`), as a browser sends them in the `Origin` header."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_normalize(value: str) -> str:
    """Return `value` as a canonical origin, or raise ValidationError saying what is wrong."""
    parts = urlsplit(value.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValidationError(f"{value!r} is not an origin like https://example.com[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValidationError(f"{value!r} has more than scheme, host and port")
    try:
        port = parts.port
    except ValueError as error:
        raise ValidationError(f"{value!r} has an invalid port") from error
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Whether a request's `Origin` header matches one of the allowed origins."""
    if not origin:
        return False
    try:
        return origin_normalize(origin) in allowed
    except ValidationError:
        return False
