"""The call's transcript: live captions to the caller, and every final entry stored at once.

Entries are numbered in the order they become final. Storage runs in its own task behind a queue,
so a slow database never stalls audio. While the database cannot be reached, entries wait in the
queue, in order, and are written when it returns; the queue holds at most `MAX_WAITING` (beyond,
entries are not stored, and counted). `close()` waits until everything queued is written, for
`STORE_SECONDS` at the most. Staff watching the tenant's calls get each entry as it is queued
(`voice.monitor`).
"""

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenants_app.db import schema_run_patiently
from voice.agent.base import Turn
from voice.call.protocol import Message, transcript_message
from voice.monitor.publisher import CallMonitor
from voice.services import transcript_entry_add

logger = logging.getLogger(__name__)

MAX_WAITING = 1000  # entries waiting to be stored: hours of conversation
STORE_SECONDS = 30.0  # at the end, how long the entries still waiting may take to be stored


@dataclass(frozen=True)
class FinalEntry:
    role: str
    text: str
    start_ms: int
    end_ms: int
    interrupted: bool = False


class TranscriptRecorder:
    def __init__(
        self,
        *,
        schema_name: str,
        call_id: str,
        send_json: Callable[[Message], Awaitable[None]],
        monitor: CallMonitor,
    ) -> None:
        self._schema_name = schema_name
        self._call_id = call_id
        self._send_json = send_json
        self._monitor = monitor
        self._ids = itertools.count(1)
        self._sequence = itertools.count()
        self._pending: asyncio.Queue[tuple[int, FinalEntry] | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_all(), name=f"transcript-{call_id}")
        self.entries: list[FinalEntry] = []
        self.dropped = 0  # final entries that could not be stored

    def turns(self) -> list[Turn]:
        """The conversation so far, as the agent reads it (tool and system entries aside)."""
        return [Turn(e.role, e.text) for e in self.entries if e.role in ("caller", "agent")]

    def new_id(self) -> str:
        return f"t{next(self._ids)}"

    async def caption(self, entry_id: str, role: str, text: str) -> None:
        """A live, non-final caption; a later message with the same id replaces it."""
        await self._send_json(transcript_message(entry_id, role, text, final=False))

    def store(self, entry: FinalEntry) -> None:
        """Queue a final entry for storage only (a tool entry, for staff: the caller has its
        card); staff watching the call get it at once."""
        self.entries.append(entry)
        if self._pending.qsize() < MAX_WAITING:
            sequence = next(self._sequence)
            self._pending.put_nowait((sequence, entry))
            self._monitor.entry(
                sequence=sequence,
                role=entry.role,
                text=entry.text,
                offset_ms=entry.start_ms,
                interrupted=entry.interrupted,
            )
        else:
            self.dropped += 1
            logger.error("call %s: too many entries waiting for the database", self._call_id)

    async def final(self, entry: FinalEntry, entry_id: str | None = None) -> None:
        """Queue the final entry for storage and send it to the caller."""
        self.store(entry)
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
                await schema_run_patiently(
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
                self.dropped += 1
                logger.exception("call %s: transcript entry %d not stored", self._call_id, sequence)

    async def close(self) -> None:
        """Wait until every final entry is stored (or `STORE_SECONDS` went by)."""
        self._pending.put_nowait(None)
        try:
            await asyncio.wait_for(self._writer, STORE_SECONDS)
        except TimeoutError:  # the entry being written is lost, the end marker is not one
            self.dropped += self._pending.qsize()
            logger.error("call %s: the database did not come back: entries lost", self._call_id)
