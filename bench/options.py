"""The benchmark's command line: how many calls, how long each streams, an optional soak."""

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class BenchOptions:
    calls: int
    seconds: float
    soak_minutes: float
    only: str | None  # "engines": only the voice engines' figures (bench.engines)


def _at_least(minimum: float, kind: type[int] | type[float]):
    def parse(text: str) -> int | float:
        value = kind(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}")
        return value

    return parse


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
        "--only",
        choices=("engines",),
        help="run one part alone: `engines`, the voice engines through real calls",
    )
    args = parser.parse_args(argv)
    return BenchOptions(
        calls=args.calls, seconds=args.seconds, soak_minutes=args.soak_minutes, only=args.only
    )
