"""An HTTP request's database connections are closed when it finishes.

Connections are kept open for reuse (`CONN_MAX_AGE`), which pays off on Channels' one DB thread,
where every call's queries run. Under ASGI, Django serves each HTTP request on a thread of its
own that ends with it, so a connection kept there would never be reused: it would stay open,
counted against PostgreSQL's limit, until the garbage collector happened to free it.
"""

from django.core.signals import request_finished
from django.db import connections
from django.dispatch import receiver


@receiver(request_finished)
def close_request_connections(**kwargs) -> None:
    """Close this thread's connections, but one inside a transaction: its owner closes it."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
