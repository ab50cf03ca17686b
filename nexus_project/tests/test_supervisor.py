"""`make run`'s children: a helper that dies is started again while the server goes on."""

import sys
from pathlib import Path

import pytest

from nexus_project import supervisor
from nexus_project.supervisor import Supervisor


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(supervisor, "POLL_SECONDS", 0.05)


def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def starts(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_a_dying_helper_is_started_again_while_the_server_goes_on(tmp_path, capsys):
    log = tmp_path / "helper-starts"
    helper = python(
        f"import sys, time; log = open({str(log)!r}, 'a'); log.write('start\\n'); log.close()\n"
        "if len(open(log.name).readlines()) < 3: sys.exit(1)\n"
        "time.sleep(60)"
    )
    server = python(  # serves until the helper has been started three times, then stops
        f"import os, time\nwhile len(open({str(log)!r}).readlines() if os.path.exists("
        f"{str(log)!r}) else []) < 3: time.sleep(0.05)"
    )
    children = Supervisor(tmp_path)
    children.start("helper", *helper, restart=True)
    children.start("server", *server, restart=False)
    try:
        stopped = children.watch()
        helper_running = children.children[0].process.poll() is None
    finally:
        children.stop_all()

    assert stopped == "server"
    assert starts(log) == 3 and helper_running
    said = capsys.readouterr().out
    assert said.count("helper stopped (exit code 1): starting it again.") == 2


def test_a_helper_that_keeps_dying_is_given_up_on(tmp_path, capsys):
    children = Supervisor(tmp_path)
    children.start("helper", *python("import sys; sys.exit(2)"), restart=True)
    children.start("server", *python("import time; time.sleep(60)"), restart=False)
    try:
        stopped = children.watch()
    finally:
        children.stop_all()

    assert stopped == "helper"
    said = capsys.readouterr().out
    assert said.count("starting it again") == supervisor.MAX_RESTARTS
    assert "helper keeps stopping: giving up on it." in said
