"""The benchmark's command line: how many calls, how long each streams, in which formats and
frames, the load levels to step through, an optional soak."""

import argparse
from dataclasses import dataclass

from bench.formats import FORMATS

FRAME_MS_CHOICES = (10, 20, 40, 60)
WIDGET_FRAME_MS = 40  # what the product's widget sends


@dataclass(frozen=True)
class BenchOptions:
    calls: int
    seconds: float
    soak_minutes: float
    only: str | None  # "engines": only the voice engines' figures (bench.engines)
    steps: tuple[int, ...] = ()  # load levels to step through for the sustained calls
    formats: tuple[str, ...] = tuple(FORMATS)  # names in `bench.formats.FORMATS`
    frame_ms: int = WIDGET_FRAME_MS

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
    if text == "off":
        return ()
    try:
        levels = tuple(sorted({int(level) for level in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(
            "calls per level, comma-separated (5,10,20), or off"
        ) from None
    if levels[0] < 1:
        raise argparse.ArgumentTypeError("every level is at least 1 call")
    return levels


def _formats(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip() for name in text.split(",")))
    unknown = [name for name in names if name not in FORMATS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"formats, comma-separated, of: {', '.join(FORMATS)}")
    return names


def options_parse(argv: list[str]) -> BenchOptions:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load the voice bridge with simulated callers and print its figures.",
    )
    parser.add_argument(
        "--calls",
        type=_at_least(1, int),
        default=20,
        help="simultaneous calls (default: %(default)s)",
    )
    parser.add_argument(
        "--seconds",
        type=_at_least(3, float),
        default=15.0,
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
        default=(10, 20, 40),
        help="step the load through these levels until one saturates, the bridge alone and the"
        " whole product; `off` for none (default: %(default)s)",
    )
    parser.add_argument(
        "--formats",
        type=_formats,
        default=tuple(FORMATS),
        help=f"caller formats, comma-separated, of: {', '.join(FORMATS)} (default: all)",
    )
    parser.add_argument(
        "--frame-ms",
        type=int,
        choices=FRAME_MS_CHOICES,
        default=WIDGET_FRAME_MS,
        help="ms of audio in each caller frame, declared as `frame_ms` (default: %(default)s)",
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
        formats=args.formats,
        frame_ms=args.frame_ms,
    )
