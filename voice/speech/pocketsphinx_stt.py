"""Offline speech-to-text: pocketsphinx with the US English model shipped inside its wheel.

For development, tests and demos: no network, modest accuracy. Decoding runs in worker
*processes*, not threads: pocketsphinx's binding holds the GIL for the whole decode (~0.15 s per
second of speech), so a worker thread would still freeze the event loop and every call's audio
with it. Each worker (``spawn``ed: a process running an event loop and threads is never forked)
loads the model once, at its first utterance, and decodes one utterance at a time, which also
keeps each decoder to one thread, as pocketsphinx requires. The pool starts at first use.
As with any spawned process, a script that transcribes needs an ``if __name__ == "__main__"``
guard (the workers import the main module).

The workers run in Linux's idle scheduling class (`SCHED_IDLE`), below any process of normal
priority, so speech-to-text takes only the CPU the calls' audio leaves; there is one per CPU the
process may run on unless the `NEXUS_SPEECH_TO_TEXT_WORKERS` setting says otherwise (each holds
~90 MB of model).

A call's phrases (`SpeechContext.phrases`, the persona's vocabulary) become a language model of
their own, built by pocketsphinx's `ArpaBoLM` in each worker at the first utterance that needs
it and kept for the next (`MAX_MODELS` of them); without phrases, the model's general English
language model decodes. The model knows English only.
"""

import asyncio
import hashlib
import multiprocessing
import os
import tempfile
import threading
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from django.conf import settings
from pocketsphinx import Decoder
from pocketsphinx.lm import ArpaBoLM

from voice.audio.base import level_dbfs
from voice.speech.resample import OUT_RATE, resample_24k_to_16k
from voice.speech.stt import ANYTHING, SpeechContext

SILENCE_DBFS = -60.0  # quieter utterances are not decoded: pocketsphinx invents words in silence

_executor: ProcessPoolExecutor | None = None
_executor_lock = threading.Lock()
MAX_MODELS = 32  # language models of phrases a worker keeps (one per persona in use)
GENERAL_SEARCH = "_default"  # pocketsphinx's own search: its general English model

_decoder: Decoder | None = None  # in a worker process: its own decoder
_models: OrderedDict[str, None] = OrderedDict()  # in a worker: its phrase models, oldest first


def pool_size() -> int:
    """Utterances decoded at once per web process: the setting, or the CPUs it may use."""
    return settings.NEXUS_SPEECH_TO_TEXT_WORKERS or len(os.sched_getaffinity(0))


def _worker_start() -> None:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _pool() -> ProcessPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            context = multiprocessing.get_context("spawn")
            _executor = ProcessPoolExecutor(
                pool_size(), mp_context=context, initializer=_worker_start
            )
        return _executor


def _pool_of_its_own() -> None:
    """A forked process (a test's live server) cannot use its parent's pool (its threads and
    pipes stayed behind): it starts one of its own at its first utterance."""
    global _executor, _executor_lock
    _executor, _executor_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_pool_of_its_own)


def _discard_pool(broken: ProcessPoolExecutor) -> None:
    """A worker died: the next utterance starts a fresh pool."""
    global _executor
    with _executor_lock:
        if _executor is broken:
            _executor = None
    broken.shutdown(wait=False, cancel_futures=True)


def decode(pcm: np.ndarray, phrases: tuple[str, ...] = ()) -> str:
    """Transcribe one PCM24k utterance, in this process (a pool worker), with the language
    model of `phrases` (the general one without)."""
    global _decoder
    if _decoder is None:
        _decoder = Decoder(samprate=OUT_RATE, loglevel="FATAL")
    _decoder.activate_search(_search(_decoder, phrases))
    _decoder.start_utt()
    # full_utt: normalize the features over the whole utterance, so the result does not depend
    # on what this worker decoded before.
    _decoder.process_raw(resample_24k_to_16k(pcm).tobytes(), full_utt=True)
    _decoder.end_utt()
    hypothesis = _decoder.hyp()
    return " ".join(hypothesis.hypstr.lower().split()) if hypothesis else ""


def _search(decoder: Decoder, phrases: tuple[str, ...]) -> str:
    """The decoder's search for `phrases`: their language model, built on first use."""
    if not phrases:
        return GENERAL_SEARCH
    name = hashlib.sha256("\n".join(phrases).encode()).hexdigest()[:16]
    if name in _models:
        _models.move_to_end(name)
        return name
    model = ArpaBoLM(text="\n".join(phrases), add_start=True)
    model.compute()
    handle, path = tempfile.mkstemp(suffix=".arpa")
    os.close(handle)
    try:
        model.write_file(path)
        decoder.add_lm_file(name, path)
    finally:
        os.unlink(path)
    _models[name] = None
    if len(_models) > MAX_MODELS:
        oldest, _ = _models.popitem(last=False)
        decoder.remove_search(oldest)
    return name


def is_silent(pcm: np.ndarray) -> bool:
    return level_dbfs(pcm) < SILENCE_DBFS


class PocketsphinxSpeechToText:
    """The "offline" SpeechToText provider; instances are cheap and share the process's pool."""

    async def transcribe(self, pcm: np.ndarray, context: SpeechContext = ANYTHING) -> str:
        pcm = np.asarray(pcm, dtype=np.int16).reshape(-1)
        if is_silent(pcm):
            return ""
        pool = _pool()
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(pool, decode, pcm, context.phrases)
        except BrokenProcessPool:
            _discard_pool(pool)
            raise
