"""Fixtures shared by every app's tests: the two example tenants in real schemas, a worker."""

import asyncio
import logging
from pathlib import Path

import channels.db
import django.db
import pytest
from asgiref.sync import sync_to_async
from celery.contrib.testing.worker import start_worker
from channels.layers import channel_layers
from django.core.cache import cache
from django.db import connection, connections

from nexus_project.celery import app
from tenants_app.config import config_load
from tenants_app.db import tenant_schema
from tenants_app.models import Tenant
from tenants_app.platform import platform_ensure
from tenants_app.services import tenant_onboard

EXAMPLES = Path(__file__).parent / "examples" / "tenants"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database with the platform and the example tenants `joes` and `pizza`, and a
    Redis with nothing left by an earlier run (counters of calls, leases, queued tasks).

    At the end, the connection kept open on Channels' DB thread (`CONN_MAX_AGE`), where the
    consumers' queries ran, is closed: the test database cannot be dropped while it is open."""
    cache.clear()
    with django_db_blocker.unblock():
        platform_ensure(domains=["localhost", "testserver"])
        for slug in ("joes", "pizza"):
            tenant_onboard(config=config_load(EXAMPLES / slug / "config.yaml"))
    yield
    asyncio.run(sync_to_async(connections.close_all)())  # on that thread: its connections


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    """Never let one test's tenant leak into the next through the shared connection."""
    yield
    connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _channel_layer_per_test():
    """Each test has an event loop of its own, so a channel layer of its own: channels-redis
    binds its receive lock to a loop, and a consumer an earlier test left waiting on the layer
    would hold it locked in a loop that is gone."""
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _db_thread_closes_broken_connections():
    """Channels' test communicators swap `channels.db.close_old_connections` for a no-op while
    they wait (`mock.patch`). Callers waiting at once undo their patches out of order and can
    leave the no-op in place: the DB thread would then keep a connection an outage broke, and
    every later test's calls would fail on it. The real function is put back after each test."""
    yield
    channels.db.close_old_connections = django.db.close_old_connections


@pytest.fixture
def joes(db) -> Tenant:
    return Tenant.objects.get(slug="joes")


@pytest.fixture
def pizza(db) -> Tenant:
    return Tenant.objects.get(slug="pizza")


@pytest.fixture
def in_schema():
    """`with in_schema(tenant): ...` runs ORM code inside that tenant's schema."""
    return lambda tenant: tenant_schema(tenant.schema_name)


@pytest.fixture
def joes_admin_client(client, joes, in_schema):
    """A test client logged in to Joe's admin as a superuser of Joe's."""
    from tenants_app.tests.factories import PASSWORD, user_create

    with in_schema(joes):
        user_create("joes-boss", superuser=True)
    client.post(
        "/admin/login/", {"username": "joes-boss", "password": PASSWORD}, HTTP_HOST="joes.localhost"
    )
    return client


@pytest.fixture
def celery_worker():
    """A real Celery worker (in a thread) consuming the test broker, for one test.

    Tasks left queued by earlier tests (their calls' analyses) are dropped first, so the worker
    runs only what this test sends.
    """
    app.control.purge()
    root_level = logging.root.level  # the test worker lowers it to ERROR: give it back after
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield
    logging.root.setLevel(root_level)
