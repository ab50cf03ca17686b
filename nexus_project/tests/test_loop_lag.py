"""When a process counts as busy: its loop's lag held over the limit for the window, not a spike."""

from nexus_project.loop_lag import LagState

LIMIT, WINDOW = 0.2, 1.0


def fed(samples: list[tuple[float, float]], limit: float = LIMIT) -> list[bool]:
    """Whether the state is busy after each (seconds, lag) sample."""
    state = LagState()
    busy = []
    for now, lag in samples:
        state.observe(lag, now, limit=limit, window=WINDOW)
        busy.append(state.busy)
    return busy


def test_one_spike_does_not_make_the_process_busy():
    assert fed([(0.0, 0.01), (0.1, 3.0), (3.2, 0.01), (3.3, 0.01)]) == [False] * 4


def test_a_lag_held_over_the_window_makes_it_busy_until_it_stays_low_as_long():
    over = [(0.0, 0.3), (0.5, 0.3), (1.0, 0.3)]
    dip = [(1.2, 0.05)]
    over_again = [(1.5, 0.3)]
    under = [(1.7, 0.05), (2.2, 0.05), (2.7, 0.05)]

    busy = fed(over + dip + over_again + under)

    assert busy == [False, False, True, True, True, True, True, False]


def test_a_limit_of_zero_never_refuses():
    assert fed([(0.0, 5.0), (5.0, 5.0), (10.0, 5.0)], limit=0) == [False] * 3
