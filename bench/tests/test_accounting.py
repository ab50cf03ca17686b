"""The benchmark's accounting: every burst counts, a saturated level never passes, the backlog
is waited for."""

import math

import pytest

from bench.bridge_latency import DirectionLatency, frames_dropped
from bench.caller import ECHO_TAIL_SECONDS, CallerResult, echo_tail
from bench.drain import QUIET_CPU, quiet
from bench.echo import ECHO_DELAY, EchoAccount, EchoOnset, echo_account, percentile, step_wait
from bench.figures import Stepped
from bench.options import options_parse
from bench.report import served_cpu
from bench.saturation import Saturation, saturation
from bench.stepping import Step, sustained_calls
from bench.table import Table, verdict

CHUNK = 0.02


def _echo(sent: float, late: float) -> EchoOnset:
    """The echo of a burst sent at `sent`, `late` seconds after its due time, at a step's end."""
    return EchoOnset(arrived=sent + ECHO_DELAY + late, samples_after=0)


def _served(index: int = 0, ended_after: float = 0.02) -> CallerResult:
    return CallerResult(index, call_id=str(index), ready_after=0.3, ended_after=ended_after)


def _clean_echo() -> EchoAccount:
    return echo_account([([0.0, 2.5], [_echo(0.0, 0.03), _echo(2.5, 0.05)])], chunk_seconds=CHUNK)


def test_a_burst_that_never_returns_counts_as_lost_and_infinitely_late():
    bursts = [0.0, 2.5, 5.0, 7.5]
    echoes = [_echo(0.0, 0.03), _echo(2.5, 0.04), _echo(7.5, 0.05)]  # the third never came back

    account = echo_account([(bursts, echoes), ([10.0], [])], chunk_seconds=CHUNK)

    assert (account.sent, account.returned, account.lost) == (5, 3, 2)
    assert account.share == 0.6
    assert [round(x, 3) for x in sorted(account.raw)[:3]] == [0.03, 0.04, 0.05]
    assert round(percentile(account.raw, 50), 3) == 0.05  # the slowest that came back
    assert percentile(account.raw, 99) == math.inf
    assert percentile(account.unframed, 99) == math.inf
    one_of_three = echo_account([([0.0, 2.5, 5.0], [_echo(0.0, 0.03)])], chunk_seconds=CHUNK)
    assert percentile(one_of_three.raw, 50) == math.inf


def test_percentile_is_one_of_the_values_by_nearest_rank():
    values = [0.010 * i for i in range(1, 101)]  # 10 ms .. 1000 ms

    assert percentile(values, 50) == values[49]
    assert percentile(values, 99) == values[98]
    assert percentile([0.01, math.inf], 50) == 0.01
    assert percentile([0.01, math.inf], 99) == math.inf


def test_a_level_where_every_call_was_served_in_time_is_not_saturated():
    level = saturation(
        callers=[_served(0), _served(1)], echo=_clean_echo(), uplink=None, frames_dropped=0
    )

    assert level.reasons == []
    assert not level.saturated


def test_a_failed_call_marks_the_level_saturated():
    failed = CallerResult(1, failure="no ready within 15 s")

    level = saturation(
        callers=[_served(0), failed], echo=_clean_echo(), uplink=None, frames_dropped=0
    )

    assert level.saturated
    assert level.reasons == ["1 of 2 calls failed"]


def test_ended_later_than_a_second_after_end_marks_the_level_saturated():
    level = saturation(
        callers=[_served(0), _served(1, ended_after=1.4)],
        echo=_clean_echo(),
        uplink=None,
        frames_dropped=0,
    )

    assert level.reasons == ["1 calls: `ended` over 1 s after `end`"]


def test_lost_bursts_late_echoes_slow_uplink_and_dropped_frames_each_saturate():
    lost = echo_account([([0.0, 2.5], [_echo(0.0, 0.03)])], chunk_seconds=CHUNK)
    late = echo_account([([0.0, 2.5], [_echo(0.0, 0.03), _echo(2.5, 0.35)])], chunk_seconds=CHUNK)
    slow_uplink = DirectionLatency(
        calls=2, samples=900, p50_ms=3.0, p99_median_ms=15.0, p99_worst_ms=240.0
    )
    callers = [_served(0)]

    assert saturation(callers=callers, echo=lost, uplink=None, frames_dropped=0).reasons == [
        "1 of 2 echo bursts lost"
    ]
    assert saturation(callers=callers, echo=late, uplink=None, frames_dropped=0).reasons == [
        "echo p99 350 ms over 200 ms"
    ]
    reasons = saturation(
        callers=callers, echo=_clean_echo(), uplink=slow_uplink, frames_dropped=7
    ).reasons
    assert reasons == [
        "server uplink p99 240 ms in a call",
        "7 caller frames dropped by the server",
    ]


def test_frames_dropped_add_up_over_the_calls():
    metrics = [{"caller_frames_dropped": 3}, {}, {"caller_frames_dropped": 4}]

    assert frames_dropped(metrics) == 7


def test_the_backlog_is_drained_only_once_the_cpu_is_back_near_idle():
    idle = 0.02

    assert quiet(used=(idle + QUIET_CPU) * 1.0, seconds=1.0, idle_rate=idle)
    assert not quiet(used=0.5, seconds=1.0, idle_rate=idle)  # still working off the backlog


def test_the_caller_listens_until_its_last_bursts_echo_is_due():
    assert echo_tail([], now=10.0) == ECHO_TAIL_SECONDS
    assert echo_tail([1.0, 9.5], now=10.0) == 1.5  # due by 9.5 + 2.0
    assert echo_tail([1.0, 3.0], now=10.0) == ECHO_TAIL_SECONDS


def test_at_a_saturated_level_no_figure_reads_pass():
    for saturated, expected in ((False, "pass"), (True, "SATURATED")):
        table = Table(saturated=saturated)
        table.section("Calls")
        table.row("failed", "0", "0", verdict(0, 0))
        table.row("p99 (median / worst)", "3 / 40 ms", "<= 20 ms", "pass / over")

        lines = table.render().splitlines()

        assert lines[2].split()[-1] == expected
        assert lines[3].endswith(f"{expected} / over")


def test_sustained_calls_is_the_largest_level_served_before_the_first_saturated_one():
    served, full = Saturation([]), Saturation(["1 of 8 calls failed"])
    steps = [Step(8, full, 6.0), Step(2, served, 4.0), Step(4, served, 4.5), Step(16, served, 0.1)]

    assert sustained_calls(steps) == 4
    assert sustained_calls([Step(2, full, 5.0)]) == 0


def test_the_most_calls_are_the_calls_asked_for_or_the_highest_step():
    assert options_parse(["--calls", "3", "--steps", "2"]).most_calls == 3
    assert options_parse(["--calls", "3", "--steps", "8,2"]).most_calls == 8


def test_stepping_is_on_by_default_and_can_be_switched_off():
    assert options_parse([]).steps == (10, 20, 40)
    assert options_parse(["--steps", "off"]).steps == ()


def test_a_level_reads_its_daphne_cpu_against_the_bare_codec_only_where_it_was_served():
    served, full = Saturation([]), Saturation(["1 of 8 calls failed"])

    def stepped(*steps: Step) -> Stepped:
        return Stepped(CallerResult(0), list(steps))

    assert served_cpu(stepped(Step(2, served, 1.0), Step(4, served, 1.2))) == 1.2
    assert served_cpu(stepped(Step(2, served, 1.0), Step(4, full, 0.7))) == 1.0
    assert served_cpu(stepped(Step(2, full, 0.7))) is None
    assert served_cpu(None) is None


def test_the_wait_for_the_emulators_step_is_whole_chunks_after_the_onsets():
    step = 1920  # samples: 80 ms at 24 kHz

    assert step_wait(step, chunk_seconds=0.02) == pytest.approx(0.06)  # 3 more chunks
    assert step_wait(step, chunk_seconds=0.04) == pytest.approx(0.04)
    assert step_wait(960, chunk_seconds=0.04) == 0.0  # the onset's chunk completed the step
    assert step_wait(1, chunk_seconds=0.02) == 0.0
