"""Database connections: an HTTP request's is closed when it finishes, not left open."""

import pytest
from channels.testing import HttpCommunicator
from django.db.backends.signals import connection_created

from nexus_project.asgi import application

pytestmark = pytest.mark.asyncio


async def test_an_http_request_closes_the_connections_it_opened(db):
    opened = []

    def keep(sender, connection, **kwargs) -> None:
        opened.append(connection)

    connection_created.connect(keep)
    try:
        headers = [(b"host", b"localhost")]
        communicator = HttpCommunicator(application, "GET", "/admin/login/", headers=headers)
        response = await communicator.get_response(timeout=10)
        await communicator.wait(timeout=10)  # the request finished
    finally:
        connection_created.disconnect(keep)

    assert response["status"] == 200
    assert b'name="username"' in response["body"]
    assert opened  # the tenant was looked up by host, in the database
    assert all(wrapper.connection is None for wrapper in opened)
