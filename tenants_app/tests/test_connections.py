"""Database connections: an HTTP request's is closed when it finishes, not left open; a kept
one never answers in a schema other than the one selected."""

import contextlib

from channels.testing import HttpCommunicator
from django.db import connection, transaction
from django.db.backends.signals import connection_created

from nexus_project.asgi import application
from tenants_app.db import tenant_schema
from voice.models import Persona


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


def test_a_schema_set_inside_a_rolled_back_block_is_set_again(joes, pizza):
    """`SET search_path` is sent once per schema switch (TENANT_LIMIT_SET_CALLS); a rollback
    undoes a SET made inside it, so the next query must send it again."""
    with tenant_schema(pizza.schema_name):
        assert Persona.objects.get().slug == "order-taker"  # the connection is on Pizza's schema

        with contextlib.suppress(RuntimeError), transaction.atomic():
            connection.set_schema(joes.schema_name)
            Persona.objects.get()  # SET to Joe's schema, inside the block
            raise RuntimeError("rolled back, and the SET with it")

        assert connection.schema_name == joes.schema_name
        assert Persona.objects.get().slug == "receptionist"  # Joe's, not Pizza's
