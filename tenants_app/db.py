"""ORM access from async code, inside one tenant's schema.

django-tenants keeps the current schema on the connection, and Channels runs every
`database_sync_to_async` call on one shared thread. So each call sets the tenant, runs, and resets
the connection to public in `finally`: no tenant is ever left on the shared thread, and async code
never relies on `connection.schema_name`.
"""

from collections.abc import Callable
from typing import TypeVar

from channels.db import database_sync_to_async
from django.db import connection

from tenants_app.models import Tenant

T = TypeVar("T")


def _in_schema(tenant: Tenant, function: Callable[..., T], /, *args, **kwargs) -> T:
    connection.set_tenant(tenant)
    try:
        return function(*args, **kwargs)
    finally:
        connection.set_schema_to_public()


async def tenant_run(tenant: Tenant, function: Callable[..., T], /, *args, **kwargs) -> T:
    """Run the sync `function(*args, **kwargs)` on the DB thread inside `tenant`'s schema."""
    return await database_sync_to_async(_in_schema)(tenant, function, *args, **kwargs)


async def public_run(function: Callable[..., T], /, *args, **kwargs) -> T:
    """Run the sync `function(*args, **kwargs)` on the DB thread in the public schema."""
    return await database_sync_to_async(_public)(function, *args, **kwargs)


def _public(function: Callable[..., T], /, *args, **kwargs) -> T:
    connection.set_schema_to_public()
    return function(*args, **kwargs)


def _in_named_schema(schema_name: str, function: Callable[..., T], /, *args, **kwargs) -> T:
    connection.set_schema(schema_name)
    try:
        return function(*args, **kwargs)
    finally:
        connection.set_schema_to_public()


async def schema_run(schema_name: str, function: Callable[..., T], /, *args, **kwargs) -> T:
    """Like `tenant_run`, for code that knows only the schema's name (tools, Celery tasks)."""
    return await database_sync_to_async(_in_named_schema)(schema_name, function, *args, **kwargs)
