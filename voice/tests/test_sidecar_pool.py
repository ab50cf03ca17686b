"""The sidecar pool: entries with their capacity, and leases counted per entry in Redis."""

import uuid

import pytest
from django.conf import settings
from redis.asyncio import Redis

from voice.sidecar.pool import SidecarEntry, SidecarPool


def test_an_entry_names_its_sessions_or_holds_one():
    assert SidecarEntry.parse("ws://gpu-1:8998") == SidecarEntry("ws://gpu-1:8998", 1)
    assert SidecarEntry.parse("wss://gpu-1:8998#sessions=4") == SidecarEntry("wss://gpu-1:8998", 4)
    for wrong in ("ws://gpu-1:8998#sessions=0", "ws://gpu-1:8998#4", "ws://gpu-1:8998#sessions="):
        with pytest.raises(ValueError, match="#sessions=N"):
            SidecarEntry.parse(wrong)


@pytest.mark.asyncio
async def test_leases_count_per_entry_and_a_release_frees_one_session():
    url = f"ws://gpu-{uuid.uuid4().hex[:8]}:8998"  # a pool of its own in the shared Redis
    async with Redis.from_url(settings.REDIS_URL) as redis:
        pool = SidecarPool(redis, [SidecarEntry(url, 3)], ttl_seconds=5)
        leases = [await pool.lease(f"call-{n}") for n in range(4)]
        assert [lease.url if lease else None for lease in leases] == [url, url, url, None]
        assert len({lease.key for lease in leases if lease}) == 3
        assert leases[1] is not None
        await leases[1].release()
        again = await pool.lease("call-5")
        assert again is not None and again.key == leases[1].key
        for lease in [*leases, again]:
            if lease is not None:
                await lease.release()
