"""The report's sections that do not depend on the caller format: the VAD's false triggers, the
offline speech-to-text's word errors, and the soak's memory over time."""

from statistics import median

from bench.resources import MB
from bench.soak import SoakFigures
from bench.table import Table, verdict
from bench.vad import VadFigures
from bench.word_errors import WordErrorFigures

SOAK_SLOPE_MB_PER_MINUTE = 0.1  # "no growth": under this, fitted over the soak


def vad_rows(table: Table, vad: VadFigures | str) -> None:
    if isinstance(vad, str):
        table.section("VAD false triggers (bench.vad_measure)")
        table.row("skipped", vad)
        return
    table.section(f"VAD false triggers (bench.vad_measure, {vad.seconds:g} s each)")
    detectors = vad.detectors
    table.row("false starts per minute", " | ".join(f"{name:>8}" for name in detectors))
    floors = ", ".join(f"{name} {floor:g} dBFS" for name, floor in vad.floors.items())
    table.note(f"VoiceActivityDetector with its energy floor: {floors} (as calls run it)")
    conditions = next(iter(detectors.values())).false_starts_per_minute
    for condition in conditions:
        rates = [f"{m.false_starts_per_minute[condition]:8.1f}" for m in detectors.values()]
        table.row(f"  {condition}", " | ".join(rates))
    for name, measurement in detectors.items():
        found = measurement.onset_delays_ms
        delay = f"{median(found):.0f} / {max(found)} ms" if found else "none detected"
        table.row(
            f"onset delay, {name}: median / max; missed",
            f"{delay}; {measurement.missed} of {vad.clips} espeak clips",
        )


def word_error_rows(table: Table, errors: WordErrorFigures | str) -> None:
    table.section("Offline speech-to-text word error rate (bench.word_errors)")
    if isinstance(errors, str):
        table.row("skipped", errors)
        return
    table.note(
        f"{len(errors.decoded)} caller sentences ({errors.words} words) by espeak-ng; "
        f"{errors.in_phrases} of them word for word among the persona's phrases"
    )
    table.row("pocketsphinx, general English model", f"{errors.general:.1%}")
    table.row("pocketsphinx, Joe's persona model", f"{errors.persona:.1%}")
    first = errors.decoded[0]
    table.note(f'said "{first.said}"')
    table.note(f'general: "{first.general}"; persona: "{first.persona}"')


def soak_rows(table: Table, soak: SoakFigures) -> None:
    table.section(f"Soak ({soak.minutes:g} min, daphne USS every 30 s while all calls streamed)")
    if soak.failures:
        table.note(f"{soak.failures} calls failed during the soak")
    if len(soak.samples) < 2:
        table.row("samples", "fewer than 2: no growth figure")
        return
    table.note(", ".join(f"{s.at / 60:.1f} min {s.uss / MB:.1f}" for s in soak.samples) + " MB")
    slope = soak.slope / MB
    table.row(
        f"growth: last - first / fitted slope ({soak.samples[0].live} calls)",
        f"{soak.growth / MB:+.1f} MB / {slope:+.2f} MB per minute",
        f"no growth (< {SOAK_SLOPE_MB_PER_MINUTE:g} MB/min)",
        verdict(slope, SOAK_SLOPE_MB_PER_MINUTE),
    )
