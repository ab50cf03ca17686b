"""The benchmark's command line: how many calls, how long each streams, an optional soak."""

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class BenchOptions:
    calls: int
    seconds: float
    soak_minutes: float
    only: str | None  # "engines": only the voice engines' figures (bench.engines)
    steps: tuple[int, ...] = ()  # load levels to step through for the sustained calls

    @property
    def most_calls(self) -> int:
        return max((self.calls, *self.steps))


def _at_least(minimum: float, kind: type[int] | type[float]):
    def parse(text: str) -> int | float:
        value = kind(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}")
        return value

    return parse


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(sorted({int(level) for level in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError("calls per level, comma-separated: 5,10,20") from None
    if levels[0] < 1:
        raise argparse.ArgumentTypeError("every level is at least 1 call")
    return levels


def options_parse(argv: list[str]) -> BenchOptions:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load the voice bridge with simulated callers and print its figures.",
    )
    parser.add_argument(
        "--calls",
        type=_at_least(1, int),
        default=50,
        help="simultaneous calls (default: %(default)s)",
    )
    parser.add_argument(
        "--seconds",
        type=_at_least(3, float),
        default=30.0,
        help="seconds of audio each call streams (default: %(default)s)",
    )
    parser.add_argument(
        "--soak-minutes",
        type=_at_least(0, float),
        default=0.0,
        help="then keep the calls streaming this long, sampling memory (default: off)",
    )
    parser.add_argument(
        "--steps",
        type=_levels,
        default=(),
        help="then step the load through these levels, e.g. 5,10,20, until one saturates",
    )
    parser.add_argument(
        "--only",
        choices=("engines",),
        help="run one part alone: `engines`, the voice engines through real calls",
    )
    args = parser.parse_args(argv)
    return BenchOptions(
        calls=args.calls,
        seconds=args.seconds,
        soak_minutes=args.soak_minutes,
        only=args.only,
        steps=args.steps,
    )
