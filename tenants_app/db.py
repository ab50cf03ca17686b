"""The one way into a tenant's schema, from sync and from async code.

django-tenants keeps the current schema on the database connection, and Channels runs every
`database_sync_to_async` call on one shared thread. So code enters a schema by name, runs, and
the connection is reset to public in `finally`: no tenant is ever left on a connection, and
async code never relies on `connection.schema_name`.

    with tenant_schema("joes"):                      # sync: commands, tasks, services
        ...
    await schema_run("joes", persona_get, slug="x")  # async: on the DB thread, in the schema
"""

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, Protocol, TypeVar, cast

from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError, connection
from django_tenants.utils import get_public_schema_name

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

RETRY_INITIAL_SECONDS = 0.2
RETRY_MAX_SECONDS = 5.0


class _TenantConnection(Protocol):
    """What django-tenants' database wrapper adds to a connection, as used here."""

    schema_name: str

    def set_schema(self, schema_name: str) -> None: ...

    def set_schema_to_public(self) -> None: ...


def _tenant_connection() -> _TenantConnection:
    """The default connection (django-tenants' wrapper, by the settings)."""
    return cast(_TenantConnection, connection)


@contextmanager
def tenant_schema(schema_name: str) -> Iterator[None]:
    """Run the block inside `schema_name`; the connection is back on public afterwards."""
    tenant_connection = _tenant_connection()
    tenant_connection.set_schema(schema_name)
    try:
        yield
    finally:
        tenant_connection.set_schema_to_public()


def current_schema() -> str:
    """The schema sync code runs in now (inside `tenant_schema`, or a tenant's HTTP request)."""
    return _tenant_connection().schema_name


def _run_in_schema(
    schema_name: str, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    with tenant_schema(schema_name):
        return function(*args, **kwargs)


async def schema_run(
    schema_name: str, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """Run the sync `function(*args, **kwargs)` on the DB thread inside `schema_name`."""
    return await database_sync_to_async(_run_in_schema)(schema_name, function, *args, **kwargs)


async def schema_run_patiently(
    schema_name: str, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """`schema_run` that waits out a database it cannot reach (refused, or the connection
    lost), trying again with backoff until it succeeds; bound it with `asyncio.wait_for`."""
    delay = RETRY_INITIAL_SECONDS
    while True:
        try:
            return await schema_run(schema_name, function, *args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            logger.warning("database unreachable (%s); trying again in %.1f s", error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)


async def public_run(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run the sync `function(*args, **kwargs)` on the DB thread in the public schema."""
    return await schema_run(get_public_schema_name(), function, *args, **kwargs)
