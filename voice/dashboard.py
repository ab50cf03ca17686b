"""The dashboard on a tenant's admin index: its calls at a glance, from its own rows.

Days are the tenant's (in its time zone); "7 days" and "30 days" end today, today included.
The charts are drawn here as SVG shapes: a bar per day for the last 30 days, and the calls'
outcomes as one stacked bar.
"""

import datetime as dt
import itertools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone as django_timezone

from voice.models import Call
from voice.review import clock_text
from voice.selectors import (
    call_bridge_latency_median,
    call_duration_average,
    call_outcome_counts,
    calls_needing_a_person,
    calls_per_day,
    tool_invocation_counts,
)

DAYS = 30
WEEK = 7
QUEUE_LENGTH = 10
CHART_WIDTH = 560  # SVG units; the page draws them at that many pixels
BARS_TOP, BARS_HEIGHT = 16, 110  # room above the bars for their figures
OUTCOME_COLOURS = 5  # then they repeat (`admin-dashboard.css`)
NOT_ANALYZED_COLOUR = 5  # grey
NOT_ANALYZED = "Not analyzed yet"


@dataclass(frozen=True)
class DayBar:
    day: dt.date
    count: int
    x: float
    y: float
    width: float
    height: float
    tick: str  # the date written under the bar, once a week

    @property
    def middle(self) -> float:
        return round(self.x + self.width / 2, 2)

    @property
    def value_y(self) -> float:
        """Where the bar's figure is written, just above it."""
        return round(self.y - 3, 2)


@dataclass(frozen=True)
class OutcomeShare:
    label: str
    count: int
    percent: int
    x: float
    width: float
    colour: int


@dataclass(frozen=True)
class Dashboard:
    today: int
    last_7_days: int
    last_30_days: int
    average_duration: str  # m:ss, or "—" without an ended call
    days: tuple[DayBar, ...]
    busiest_day: int
    outcomes: tuple[OutcomeShare, ...]
    tools_succeeded: int
    tools_finished: int
    queue: tuple[Call, ...]  # handed over to a person, newest first
    queue_total: int
    uplink_p50_ms: float | None
    downlink_p50_ms: float | None

    @property
    def tool_success_percent(self) -> int | None:
        if not self.tools_finished:
            return None
        return round(100 * self.tools_succeeded / self.tools_finished)

    @property
    def chart_height(self) -> int:
        return BARS_TOP + BARS_HEIGHT + 20  # and the dates under the bars

    @property
    def baseline(self) -> int:
        return BARS_TOP + BARS_HEIGHT

    @property
    def tick_y(self) -> int:
        return self.chart_height - 4


def dashboard_build(*, timezone: str, now: dt.datetime | None = None) -> Dashboard:
    """The tenant's dashboard (run in its schema), `timezone` being the tenant's."""
    zone = ZoneInfo(timezone)
    today = (now or django_timezone.now()).astimezone(zone).date()
    first_day = today - dt.timedelta(days=DAYS - 1)
    since = dt.datetime.combine(first_day, dt.time.min, zone)
    per_day = calls_per_day(since=since, zone=zone)
    days = [first_day + dt.timedelta(days=n) for n in range(DAYS)]
    counts = [(day, per_day.get(day, 0)) for day in days]
    average = call_duration_average(since=since)
    succeeded, finished = tool_invocation_counts(since=since)
    queue, queue_total = calls_needing_a_person(limit=QUEUE_LENGTH)
    uplink, downlink = call_bridge_latency_median(since=since)
    return Dashboard(
        today=counts[-1][1],
        last_7_days=sum(count for _, count in counts[-WEEK:]),
        last_30_days=sum(count for _, count in counts),
        average_duration=clock_text(int(average.total_seconds() * 1000)) if average else "—",
        days=_day_bars(counts, today),
        busiest_day=max(count for _, count in counts),
        outcomes=_outcome_shares(call_outcome_counts(since=since)),
        tools_succeeded=succeeded,
        tools_finished=finished,
        queue=tuple(queue),
        queue_total=queue_total,
        uplink_p50_ms=uplink,
        downlink_p50_ms=downlink,
    )


def _day_bars(counts: list[tuple[dt.date, int]], today: dt.date) -> tuple[DayBar, ...]:
    slot = CHART_WIDTH / len(counts)
    busiest = max(count for _, count in counts) or 1
    bars = []
    for n, (day, count) in enumerate(counts):
        height = BARS_HEIGHT * count / busiest
        weekly = (today - day).days % WEEK == 0
        bars.append(
            DayBar(
                day=day,
                count=count,
                x=round(n * slot + slot * 0.15, 2),
                y=round(BARS_TOP + BARS_HEIGHT - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                tick=f"{day:%b} {day.day}" if weekly else "",
            )
        )
    return tuple(bars)


def _outcome_shares(counts: list[tuple[str | None, int]]) -> tuple[OutcomeShare, ...]:
    total = sum(count for _, count in counts)
    shares, x, colours = [], 0.0, itertools.count()
    for outcome, count in counts:
        width = CHART_WIDTH * count / total
        shares.append(
            OutcomeShare(
                label=outcome or NOT_ANALYZED,
                count=count,
                percent=round(100 * count / total),
                x=round(x, 2),
                width=round(width, 2),
                colour=NOT_ANALYZED_COLOUR if outcome is None else next(colours) % OUTCOME_COLOURS,
            )
        )
        x += width
    return tuple(shares)
