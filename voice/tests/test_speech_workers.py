"""The offline speech-to-text's worker processes: scheduled below the web process, sized by the
machine or the setting."""

import os
import time

import pytest

from voice.speech import pocketsphinx_stt
from voice.speech.pocketsphinx_stt import pool_size

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def fresh_pool():
    """A pool started for this test, and none left behind for the next."""
    if pocketsphinx_stt._executor is not None:
        pocketsphinx_stt._discard_pool(pocketsphinx_stt._executor)
    yield
    if pocketsphinx_stt._executor is not None:
        pocketsphinx_stt._discard_pool(pocketsphinx_stt._executor)


def test_the_workers_run_only_on_the_cpu_the_web_process_leaves(fresh_pool):
    worker_policy = pocketsphinx_stt._pool().submit(os.sched_getscheduler, 0).result(timeout=60)

    assert worker_policy == os.SCHED_IDLE
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_the_pool_has_one_worker_per_usable_cpu_unless_the_setting_says_otherwise(
    settings, monkeypatch
):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 3})
    settings.NEXUS_SPEECH_TO_TEXT_WORKERS = 0
    assert pool_size() == 3
    settings.NEXUS_SPEECH_TO_TEXT_WORKERS = 5
    assert pool_size() == 5


def _pid_after_a_second() -> int:
    time.sleep(1.0)
    return os.getpid()


def test_the_pool_is_started_with_the_size_of_the_setting(settings, fresh_pool):
    settings.NEXUS_SPEECH_TO_TEXT_WORKERS = 2
    pool = pocketsphinx_stt._pool()

    work = [pool.submit(_pid_after_a_second) for _ in range(8)]  # 8 s for one worker alone
    pids = {done.result(timeout=60) for done in work}
    assert len(pids) == 2 and os.getpid() not in pids
