"""More than one web process: two of them, sharing one database, one Redis, one Celery worker and
one sidecar pool, keep every shared rule as one process would.

The pool is one PersonaPlex emulator holding ONE conversation, served by the test's own event
loop. Voice calls on both processes at once: the sidecar goes to one call (its lease in Redis),
the other process's call is told it is busy and served in text (`NEXUS_VOICE_FALLBACK=text`);
a slow tool asked on each call comes back from the worker to that call on its own process; the
tenant's concurrent-call limit counts the calls of both processes.
"""

import asyncio
import contextlib

import pytest
from django.conf import settings
from redis.asyncio import Redis

from nexus_project.tests.callers import (
    call,
    tenant_limits_set,
    tool_invocations,
    widget_key_commit,
)
from nexus_project.tests.processes import (
    answers_health,
    answers_ping,
    free_port,
    production_env,
    running_async,
    web_process,
    worker_process,
)
from voice.sidecar.emulator import EmulatorConfig, running_emulator
from voice.sidecar.pool import SidecarEntry
from voice.tests.conftest import persona_voice

pytestmark = pytest.mark.timeout(600)  # four processes starting on a busy 2-core machine

ONE_FAST_SIDECAR = EmulatorConfig(load_base_seconds=0.05, load_per_word_seconds=0)
WALK_IN_QUESTION = "How long is the wait for a walk-in?"
TOOL_TASK_DONE = r"Task tools\.run\[[\w-]+\] succeeded"
CALL_LIMIT = 2


async def lease_holders(sidecar: str) -> list[str]:
    """The calls holding the sidecar's sessions, as the pool records them in Redis."""
    async with Redis.from_url(settings.REDIS_URL) as redis:
        holders = [await redis.get(key) for key in SidecarEntry.parse(sidecar).lease_keys()]
    return [holder.decode() for holder in holders if holder]


@pytest.fixture
async def joes_key(db):
    """A committed key of Joe's, whose persona speaks through PersonaPlex for the test, and
    whose concurrent-call limit is 2 for the test (both put back after). Its limit of calls per
    client goes up meanwhile: every test call comes from 127.0.0.1, and only the tenant's limit
    may refuse them here."""
    key = await widget_key_commit("joes")
    old = await tenant_limits_set(
        "joes", concurrent_call_limit=CALL_LIMIT, calls_per_client_limit=10 * CALL_LIMIT
    )
    try:
        async with persona_voice(key, "nvidia_personaplex", "NATM1.pt"):
            yield key
    finally:
        await tenant_limits_set("joes", **old)


async def test_two_web_processes_share_the_sidecar_pool_the_worker_and_the_call_limit(
    joes_key, tmp_path
):
    ports = free_port(), free_port()
    query = f"key={joes_key.key}&format=pcm16&rate=24000"
    async with contextlib.AsyncExitStack() as stack:
        sidecar = await stack.enter_async_context(running_emulator(ONE_FAST_SIDECAR))
        env = production_env(
            PERSONAPLEX_URLS=sidecar,
            PERSONAPLEX_RETRY_INITIAL="0.2",
            NEXUS_VOICE_FALLBACK="text",
        )
        worker, node_name = worker_process(env, tmp_path)
        await stack.enter_async_context(running_async(worker, answers_ping(node_name), "ready"))
        for number, port in enumerate(ports, start=1):
            web = web_process(port, env, tmp_path, name=f"web-{number}")
            await stack.enter_async_context(running_async(web, answers_health(port), "ready"))

        # Given a call on the first process holding the only sidecar,
        first = await stack.enter_async_context(call(ports[0], query))
        first_id = (await first.receive_until("session"))["call_id"]
        ready = await first.receive_until("ready")
        holders = await lease_holders(sidecar)
        # when a call comes to the other process,
        second = await stack.enter_async_context(call(ports[1], query))
        second_id = (await second.receive_until("session"))["call_id"]
        busy = await second.receive_until("mode")
        # and both ask for a slow tool at once, and a third call comes to either process,
        cards = await asyncio.gather(
            first.tool_card(WALK_IN_QUESTION, "walk_in_wait"),
            second.tool_card(WALK_IN_QUESTION, "walk_in_wait"),
        )
        refusals = []
        for port in ports:
            async with call(port, query) as third:
                refusals.append(await third.receive())
        ended = [await first.hang_up(), await second.hang_up()]
        tasks_done = await asyncio.to_thread(worker.lines_matching, TOOL_TASK_DONE, 2)

    # then the sidecar was leased once, across processes: the second call is told, in text,
    assert ready == {"type": "ready"}
    assert holders == [first_id]
    assert busy == {"type": "mode", "mode": "text", "reason": "sidecar_busy"}
    # each call got its own tool result from the worker, on its own process,
    for caller, card in zip((first, second), cards, strict=True):
        assert card["status"] == "succeeded", card
        assert card["title"] == "Walk-in wait"
        finished = [m for m in caller.messages if m["type"] == "tool" and m["status"] != "started"]
        assert finished == [card]  # one result each: none went to the other call
    for call_id in (first_id, second_id):
        assert await tool_invocations("joes", call_id) == [("walk_in_wait", "succeeded")]
    assert len(tasks_done) >= 2
    # and the tenant's limit of 2 held over both processes.
    assert refusals == [{"type": "<closed>", "code": 4429}] * 2
    assert ended == [{"type": "ended", "reason": "caller_hangup"}] * 2
