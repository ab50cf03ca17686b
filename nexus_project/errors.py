"""The application's error type: what is reported to callers, staff and operators.

Every error that someone outside the code reads (a caller's `error` message, a refused
handshake, a tool that failed, a bad `config.yaml`, an analysis that could not be made) is an
`ApplicationError`: a stable `code` that clients and tests can rely on, and a `message` in
plain words. Subclasses name the domain and give their default code.
"""

from typing import Any


class ApplicationError(Exception):
    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra
