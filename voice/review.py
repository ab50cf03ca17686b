"""A call as support staff review it: what happened in time order (its timeline), and its
analysis and metrics in words and figures.

Offsets are milliseconds from the call's start, the time base of the transcript and of the
call's recording. A tool's run is placed when it started; the `tool` transcript entry written
when it ended says the same in one line, so it is left out for a run shown in full.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from tools_registry.models import InvocationStatus, ToolInvocation
from tools_registry.registry import tool_get
from voice.models import Call, Role, TranscriptEntry
from voice.selectors import call_tool_invocations, call_transcript

ANALYSIS_LABELS = {
    "summary": "Summary",
    "intent": "Caller intent",
    "sentiment": "Sentiment",
    "outcome": "Outcome",
    "follow_up_needed": "Follow-up needed",
    "analyzer": "Analyzed by",
}
COUNT_LABELS = {
    "entries": "Transcript entries",
    "interruptions": "Barge-ins (the caller spoke over the agent)",
    "caller_frames_dropped": "Caller audio frames dropped",
    "transcript_entries_dropped": "Transcript entries not stored",
}
LATENCY_LABELS = {
    "uplink_latency": "Bridge latency, caller to voice engine",
    "downlink_latency": "Bridge latency, voice engine to caller",
    "turn_latency": "Answer latency, caller's last word to the agent's voice",
}


def clock_text(ms: int) -> str:
    """A time from the call's start, or a length, as m:ss ("0:07", "12:30")."""
    minutes, seconds = divmod(max(ms, 0) // 1000, 60)
    return f"{minutes}:{seconds:02d}"


def plain_text(value: Any) -> str:
    """A stored JSON value as words: lists joined by commas, objects as "key: value" pairs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(plain_text(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_words(key)}: {plain_text(item)}" for key, item in value.items())
    return str(value)


def _words(key: str) -> str:
    return str(key).replace("_", " ")


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


@dataclass(frozen=True)
class ToolRun:
    title: str  # as the caller's card named it ("Booking")
    name: str
    status: str
    status_label: str
    arguments: tuple[Figure, ...]
    summary: str  # what came of it, in the caller's words
    details: tuple[Figure, ...]  # the result's data
    error: str
    duration_ms: int | None


@dataclass(frozen=True)
class Moment:
    """One line of the timeline: something said, a tool's run, or what the system did."""

    offset_ms: int
    role: str
    role_label: str
    text: str = ""
    interrupted: bool = False
    tool: ToolRun | None = None

    @property
    def at(self) -> str:
        return clock_text(self.offset_ms)

    @property
    def seconds(self) -> str:
        """The offset in seconds, for the recording's player."""
        return f"{self.offset_ms / 1000:.3f}"


@dataclass(frozen=True)
class CallReview:
    timeline: tuple[Moment, ...]
    analysis: tuple[Figure, ...]
    analysis_missing: str  # why there is no analysis, when there is none
    metrics: tuple[Figure, ...]


def call_review_build(*, call: Call) -> CallReview:
    """The call's timeline, analysis and metrics, read from its tenant's schema."""
    invocations = call_tool_invocations(call_id=str(call.pk))
    runs = [(_offset_ms(call, invocation), _tool_run(invocation)) for invocation in invocations]
    entries = _without_run_reports(call_transcript(call_id=str(call.pk)), invocations)
    moments = [(entry.start_ms, 0, _said(entry)) for entry in entries]
    moments += [(offset, 1, Moment(offset, Role.TOOL, "Tool", tool=run)) for offset, run in runs]
    timeline = tuple(moment for _, _, moment in sorted(moments, key=lambda m: m[:2]))
    analysis = call.analysis or {}
    missing = "" if analysis else _why_not_analyzed(call)
    return CallReview(
        timeline=timeline,
        analysis=tuple(
            Figure(label, plain_text(analysis.get(key)))
            for key, label in ANALYSIS_LABELS.items()
            if key in analysis
        ),
        analysis_missing=missing,
        metrics=tuple(_metric_figures(call.metrics or {})),
    )


def _offset_ms(call: Call, invocation: ToolInvocation) -> int:
    return max(int((invocation.started_at - call.started_at).total_seconds() * 1000), 0)


def _said(entry: TranscriptEntry) -> Moment:
    return Moment(
        entry.start_ms,
        entry.role,
        Role(entry.role).label if entry.role in Role.values else entry.role,
        text=entry.text,
        interrupted=entry.interrupted,
    )


def _without_run_reports(
    entries: list[TranscriptEntry], invocations: list[ToolInvocation]
) -> list[TranscriptEntry]:
    """The entries, less the one-line `tool` entry ("<name> <status>: ...") of each ended run."""
    reported = Counter(
        invocation.tool_name
        for invocation in invocations
        if invocation.status != InvocationStatus.RUNNING
    )
    kept = []
    for entry in entries:
        name = entry.text.split(" ", 1)[0]
        if entry.role == Role.TOOL and reported[name] > 0:
            reported[name] -= 1
            continue
        kept.append(entry)
    return kept


def _tool_run(invocation: ToolInvocation) -> ToolRun:
    tool = tool_get(invocation.tool_name)
    result = invocation.result or {}
    data = result.get("data") or {}
    return ToolRun(
        title=tool.title_for({}) if tool else invocation.tool_name,
        name=invocation.tool_name,
        status=invocation.status,
        status_label=invocation.get_status_display(),
        arguments=tuple(
            Figure(_words(key), plain_text(value)) for key, value in invocation.arguments.items()
        ),
        summary=result.get("summary", ""),
        details=tuple(Figure(_words(key), plain_text(value)) for key, value in data.items()),
        error=invocation.error,
        duration_ms=invocation.duration_ms,
    )


def _why_not_analyzed(call: Call) -> str:
    return "Not analyzed yet." if call.ended_at else "The call is still going on."


def _metric_figures(metrics: dict[str, Any]) -> list[Figure]:
    """The call's metrics as labelled figures with their units, in a fixed order; figures
    without a label of their own come last, named after their key."""
    figures = []
    if "duration_ms" in metrics:
        figures.append(Figure("Duration", f"{clock_text(metrics['duration_ms'])} (m:ss)"))
    for key, label in COUNT_LABELS.items():
        if key in metrics:
            figures.append(Figure(label, plain_text(metrics[key])))
    for key, label in LATENCY_LABELS.items():
        if key in metrics:
            figures.append(Figure(label, _latency_text(metrics[key])))
    known = {"duration_ms", *COUNT_LABELS, *LATENCY_LABELS}
    figures += [
        Figure(_words(key).capitalize(), plain_text(value))
        for key, value in metrics.items()
        if key not in known
    ]
    return figures


def _latency_text(summary: Any) -> str:
    """`{"count", "p50_ms", "p99_ms"}` as "p50 12.5 ms, p99 40.1 ms (812 samples)"."""
    if not isinstance(summary, dict) or "p50_ms" not in summary:
        return "not measured"
    count = summary.get("count", 0)
    return (
        f"p50 {summary['p50_ms']:.1f} ms, p99 {summary.get('p99_ms', 0):.1f} ms "
        f"({count:,} sample{'s' if count != 1 else ''})"
    )
