"""Errors raised when talking to a PersonaPlex sidecar; all derive from `SidecarError`.

A call session catches `SidecarError` to fall back to text mode. Bad arguments (an unknown voice,
a prompt over budget) raise `ValueError` instead: they are bugs to fix, not outages to ride out.
"""


class SidecarError(Exception):
    """Base class: the sidecar cannot serve, or stopped serving, this call."""


class SidecarUnavailable(SidecarError):
    """The sidecar could not be reached, refused the WebSocket, or closed before its handshake."""


class SidecarHandshakeTimeout(SidecarError):
    """The sidecar accepted the WebSocket but sent no handshake in time (busy or still loading)."""


class SidecarClosed(SidecarError):
    """The sidecar closed or dropped the WebSocket after the handshake."""

    def __init__(self, message: str, *, close_code: int | None = None) -> None:
        super().__init__(message)
        self.close_code = close_code
