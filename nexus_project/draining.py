"""Whether this process is draining: it was told to stop, and lets its live calls finish.

From the moment it drains, the process takes no new call (`/ws/call/` refuses the handshake)
and `/readyz` answers 503, so that a load balancer sends the next callers elsewhere; calls in
progress go on until they end or the drain period is over (`nexus_project.serve`).
"""

_draining = False


def drain_begin() -> None:
    """From now on, this process takes no new call and is not ready. Safe in a signal handler."""
    global _draining
    _draining = True


def draining() -> bool:
    return _draining
