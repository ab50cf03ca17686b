"""The offline speech-to-text's word error rate on callers' sentences, spoken by espeak-ng.

Each sentence is decoded twice by pocketsphinx (`voice.speech.pocketsphinx_stt.decode`, in this
process): with its general English language model, and with the one built from Joe's
Barbershop's persona (`voice.speech.vocabulary`, from `examples/tenants/joes/config.yaml`). The
word error rate is jiwer's: substitutions, deletions and insertions over the words said.
"""

from dataclasses import dataclass
from pathlib import Path

import jiwer
from django.conf import settings

from bench.speech import speak
from tenants_app.config import config_load
from tools_registry.registry import modules_load, tool_get
from voice.speech.pocketsphinx_stt import decode
from voice.speech.vocabulary import speech_phrases

VOICE = "en-us+f5"  # the espeak-ng voice pocketsphinx's English model understands best
PERSONA_CONFIG = Path(settings.BASE_DIR) / "examples" / "tenants" / "joes" / "config.yaml"
PERSONA_TOOLS = "examples.tenants.joes.tools"  # the persona's own tool (walk_in_wait)
SENTENCES = (
    "hi i would like to book a haircut tomorrow at three pm",
    "can i book a haircut tomorrow at three pm",
    "my name is jamie lee",
    "yes please",
    "do you have any free times on saturday",
    "what time do you open on tuesday",
    "are you open on sunday",
    "where are you located",
    "how much is a beard trim",
    "how much does a haircut cost",
    "can i come in on friday at ten am",
    "is there anything later in the afternoon",
    "half past two would be great",
    "can i speak to a person",
    "no thanks that's all",
    "thank you goodbye",
    "i'd like a haircut and beard next wednesday",
    "is parking free",
    "what is your address",
    "how long would i wait if i walk in now",
    "could you book me for thursday at four",
    "my name is david miller",
    "who am i talking to",
    "i need to cancel my appointment",
)  # fmt: skip


@dataclass(frozen=True)
class Decoded:
    said: str
    general: str  # heard with the general English language model
    persona: str  # heard with the persona's


@dataclass(frozen=True)
class WordErrorFigures:
    decoded: list[Decoded]
    words: int  # said, in all
    in_phrases: int  # sentences that are, word for word, one of the persona's phrases
    general: float  # word error rate, 0..1
    persona: float


def persona_phrases(path: Path = PERSONA_CONFIG) -> tuple[str, ...]:
    """The phrases calls to the persona of the config at `path` are biased to."""
    modules_load([PERSONA_TOOLS])
    config = config_load(path)
    return speech_phrases(
        agent_name=config.agent_name,
        business=config.display_name,
        knowledge=[(item.title, item.content) for item in config.knowledge],
        tools=[
            tool.spec_for(setting.settings)
            for setting in config.enabled_tools
            if (tool := tool_get(setting.name))
        ],
    )


def word_error_figures(sentences: tuple[str, ...] = SENTENCES) -> WordErrorFigures:
    """Decode every sentence with both language models (needs espeak-ng)."""
    phrases = persona_phrases()
    decoded = []
    for sentence in sentences:
        pcm = speak(sentence, voice=VOICE)
        decoded.append(Decoded(sentence, decode(pcm), decode(pcm, phrases)))
    said = [item.said for item in decoded]
    return WordErrorFigures(
        decoded,
        sum(len(sentence.split()) for sentence in said),
        len(set(said) & set(phrases)),
        jiwer.wer(said, [item.general for item in decoded]),
        jiwer.wer(said, [item.persona for item in decoded]),
    )
