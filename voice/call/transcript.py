"""The call's transcript: live captions to the caller, and every final entry stored at once.

Entries are numbered in the order they become final. Storage runs in its own task behind a queue,
so a slow database never stalls audio; `close()` waits until everything queued is written.
"""

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenants_app.db import schema_run
from voice.call.protocol import Message, transcript_message
from voice.services import transcript_entry_add

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinalEntry:
    role: str
    text: str
    start_ms: int
    end_ms: int
    interrupted: bool = False


class TranscriptRecorder:
    def __init__(
        self, *, schema_name: str, call_id: str, send_json: Callable[[Message], Awaitable[None]]
    ) -> None:
        self._schema_name = schema_name
        self._call_id = call_id
        self._send_json = send_json
        self._ids = itertools.count(1)
        self._sequence = itertools.count()
        self._pending: asyncio.Queue[tuple[int, FinalEntry] | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_all(), name=f"transcript-{call_id}")
        self.entries: list[FinalEntry] = []

    def new_id(self) -> str:
        return f"t{next(self._ids)}"

    async def caption(self, entry_id: str, role: str, text: str) -> None:
        """A live, non-final caption; a later message with the same id replaces it."""
        await self._send_json(transcript_message(entry_id, role, text, final=False))

    async def final(self, entry: FinalEntry, entry_id: str | None = None) -> None:
        """Send the final entry to the caller and queue it for storage."""
        self.entries.append(entry)
        self._pending.put_nowait((next(self._sequence), entry))
        await self._send_json(
            transcript_message(
                entry_id or self.new_id(),
                entry.role,
                entry.text,
                final=True,
                interrupted=entry.interrupted,
            )
        )

    async def _write_all(self) -> None:
        while (item := await self._pending.get()) is not None:
            sequence, entry = item
            try:
                await schema_run(
                    self._schema_name,
                    transcript_entry_add,
                    call_id=self._call_id,
                    sequence=sequence,
                    role=entry.role,
                    text=entry.text,
                    start_ms=entry.start_ms,
                    end_ms=entry.end_ms,
                    interrupted=entry.interrupted,
                )
            except Exception:
                logger.exception("call %s: transcript entry %d not stored", self._call_id, sequence)

    async def close(self) -> None:
        """Wait until every final entry is stored."""
        self._pending.put_nowait(None)
        await self._writer
