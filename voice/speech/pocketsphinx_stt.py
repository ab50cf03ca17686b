"""Offline speech-to-text: pocketsphinx with the US English model shipped inside its wheel.

For development, tests and demos: no network, modest accuracy. Decoding runs in worker
*processes*, not threads: pocketsphinx's binding holds the GIL for the whole decode (~0.15 s per
second of speech), so a worker thread would still freeze the event loop and every call's audio
with it. Each worker (``spawn``ed: a process running an event loop and threads is never forked)
loads the model once, at its first utterance, and decodes one utterance at a time, which also
keeps each decoder to one thread, as pocketsphinx requires. The pool starts at first use.
As with any spawned process, a script that transcribes needs an ``if __name__ == "__main__"``
guard (the workers import the main module).
"""

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from pocketsphinx import Decoder

from voice.audio.base import level_dbfs
from voice.speech.resample import OUT_RATE, resample_24k_to_16k

MAX_WORKERS = 2  # utterances decoded at once per web process; each worker holds ~90 MB of model
SILENCE_DBFS = -60.0  # quieter utterances are not decoded: pocketsphinx invents words in silence

_executor: ProcessPoolExecutor | None = None
_executor_lock = threading.Lock()
_decoder: Decoder | None = None  # in a worker process: its own decoder


def _pool() -> ProcessPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            context = multiprocessing.get_context("spawn")
            _executor = ProcessPoolExecutor(MAX_WORKERS, mp_context=context)
        return _executor


def _discard_pool(broken: ProcessPoolExecutor) -> None:
    """A worker died: the next utterance starts a fresh pool."""
    global _executor
    with _executor_lock:
        if _executor is broken:
            _executor = None
    broken.shutdown(wait=False, cancel_futures=True)


def decode(pcm: np.ndarray) -> str:
    """Transcribe one PCM24k utterance, in this process (a pool worker)."""
    global _decoder
    if _decoder is None:
        _decoder = Decoder(samprate=OUT_RATE, loglevel="FATAL")
    _decoder.start_utt()
    # full_utt: normalize the features over the whole utterance, so the result does not depend
    # on what this worker decoded before.
    _decoder.process_raw(resample_24k_to_16k(pcm).tobytes(), full_utt=True)
    _decoder.end_utt()
    hypothesis = _decoder.hyp()
    return " ".join(hypothesis.hypstr.lower().split()) if hypothesis else ""


def is_silent(pcm: np.ndarray) -> bool:
    return level_dbfs(pcm) < SILENCE_DBFS


class PocketsphinxSpeechToText:
    """The "offline" SpeechToText provider; instances are cheap and share the process's pool."""

    async def transcribe(self, pcm: np.ndarray) -> str:
        pcm = np.asarray(pcm, dtype=np.int16).reshape(-1)
        if is_silent(pcm):
            return ""
        pool = _pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, decode, pcm)
        except BrokenProcessPool:
            _discard_pool(pool)
            raise
