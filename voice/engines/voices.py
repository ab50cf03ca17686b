"""The voices each engine can speak with, so a persona's voice id is checked against its engine.

PersonaPlex speaks with the voice prompts its server ships (`NATF0.pt`...). Gemini's voices
(Live and speech generation alike) are named (`Kore`, `Puck`...); the cascade speaks with those
names too: with Gemini's speech generation as they are, offline with the eSpeak NG voice of the
same kind (female or male). When a call moves to another engine (PersonaPlex down: the cascade),
the new engine speaks with its own voice of the same kind.
"""

from dataclasses import dataclass

from voice.engines.names import EngineName
from voice.sidecar.voices import VOICE_IDS, voice_label


@dataclass(frozen=True)
class Voice:
    id: str
    label: str
    female: bool


# Gemini's prebuilt voices, with the character Google gives each.
_GEMINI_VOICES = {
    "Zephyr": ("bright", True), "Puck": ("upbeat", False), "Charon": ("informative", False),
    "Kore": ("firm", True), "Fenrir": ("excitable", False), "Leda": ("youthful", True),
    "Orus": ("firm", False), "Aoede": ("breezy", True), "Callirrhoe": ("easy-going", True),
    "Autonoe": ("bright", True), "Enceladus": ("breathy", False), "Iapetus": ("clear", False),
    "Umbriel": ("easy-going", False), "Algieba": ("smooth", False), "Despina": ("smooth", True),
    "Erinome": ("clear", True), "Algenib": ("gravelly", False),
    "Rasalgethi": ("informative", False),
    "Laomedeia": ("upbeat", True), "Achernar": ("soft", True), "Alnilam": ("firm", False),
    "Schedar": ("even", False), "Gacrux": ("mature", True), "Pulcherrima": ("forward", True),
    "Achird": ("friendly", False), "Zubenelgenubi": ("casual", False),
    "Vindemiatrix": ("gentle", True), "Sadachbia": ("lively", False),
    "Sadaltager": ("knowledgeable", False), "Sulafat": ("warm", True),
}  # fmt: skip
GEMINI_VOICES = tuple(
    Voice(name, f"{name} ({character}, {'female' if female else 'male'})", female)
    for name, (character, female) in _GEMINI_VOICES.items()
)
PERSONAPLEX_VOICES = tuple(
    Voice(voice_id, voice_label(voice_id), voice_id[3] == "F") for voice_id in VOICE_IDS
)

ENGINE_VOICES: dict[EngineName, tuple[Voice, ...]] = {
    EngineName.PERSONAPLEX: PERSONAPLEX_VOICES,
    EngineName.GEMINI_LIVE: GEMINI_VOICES,
    EngineName.CASCADE: GEMINI_VOICES,
}
DEFAULT_VOICES = {
    EngineName.PERSONAPLEX: "NATF0.pt",
    EngineName.GEMINI_LIVE: "Kore",
    EngineName.CASCADE: "Kore",
}
ALL_VOICE_IDS = tuple(sorted({voice.id for voices in ENGINE_VOICES.values() for voice in voices}))


def voice_find(engine: EngineName, voice_id: str) -> Voice | None:
    return next((voice for voice in ENGINE_VOICES[engine] if voice.id == voice_id), None)


def voice_error(engine: str, voice_id: str) -> str | None:
    """Why `voice_id` cannot be `engine`'s voice (None: it can)."""
    if engine not in set(EngineName):
        return f"unknown voice engine {engine!r}; known: {', '.join(EngineName)}"
    if voice_find(EngineName(engine), voice_id) is None:
        examples = ", ".join(voice.id for voice in ENGINE_VOICES[EngineName(engine)][:4])
        return f"{voice_id!r} is not a voice of {engine}: its voices are {examples}, ..."
    return None


def voice_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every engine's voices, grouped by engine, for a select box."""
    return [
        ("PersonaPlex", [(voice.id, voice.label) for voice in PERSONAPLEX_VOICES]),
        ("Gemini Live and cascade", [(voice.id, voice.label) for voice in GEMINI_VOICES]),
    ]


def voice_of_kind(engine: EngineName, voice_id: str) -> str:
    """`engine`'s voice closest to `voice_id` of another engine: the same one, or its kind."""
    for voices in ENGINE_VOICES.values():
        voice = next((v for v in voices if v.id == voice_id), None)
        if voice is not None:
            break
    else:
        return DEFAULT_VOICES[engine]
    if voice_find(engine, voice_id):
        return voice_id
    return next(v.id for v in ENGINE_VOICES[engine] if v.female == voice.female)
