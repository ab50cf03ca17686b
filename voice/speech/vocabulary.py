"""What a call's callers are likely to say: the phrases speech-to-text is biased towards.

Built per persona, from what it knows and does: its knowledge (titles and contents, and the
questions callers ask about them), its name and its business's, its tools (titles and the words
callers ask for them with), and everyday phrases of calls like these: greetings, yes and no,
days and times as they are said, names. The offline speech-to-text builds a language model from
them (pocketsphinx hears "book a haircut tomorrow at three pm", not "look at their club"); a
hosted one may take them as hints.
"""

import itertools
import re
from collections.abc import Iterable

from tools_registry.base import ToolSpec

DAYS = (
    "today", "tomorrow", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "next monday", "next friday", "this saturday", "the first", "the third",
    "the eighth", "the fifteenth", "the twenty first",
)  # fmt: skip
TIMES = (
    "nine am", "ten am", "ten thirty", "eleven o'clock", "noon", "one pm", "two pm",
    "half past two", "three pm", "quarter past three", "four pm", "quarter to five", "five pm",
    "six pm", "three o'clock", "at four",
)  # fmt: skip
FIRST_NAMES = (
    "james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william",
    "elizabeth", "david", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah",
    "charles", "karen", "chris", "nancy", "daniel", "lisa", "matthew", "betty", "anthony",
    "sandra", "mark", "ashley", "paul", "emily", "steven", "donna", "andrew", "michelle", "joshua",
    "carol", "kevin", "amanda", "brian", "melissa", "george", "deborah", "tim", "rebecca", "ryan",
    "laura", "jamie", "alex", "sam", "ann",
)  # fmt: skip
LAST_NAMES = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "hernandez", "lopez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson",
    "martin", "lee", "perez", "thompson", "white", "harris", "clark", "lewis", "robinson",
    "walker", "young", "allen", "king", "wright", "scott", "green", "baker", "adams", "nelson",
    "hill", "campbell", "mitchell", "roberts", "carter", "phillips", "evans", "turner", "parker",
    "collins", "edwards", "stewart",
)  # fmt: skip
EVERYDAY = (
    "hello", "hi there", "good morning", "good afternoon", "yes", "yes please", "yeah sure",
    "no", "no thanks", "that's right", "okay", "thank you", "thanks bye", "goodbye",
    "that's all", "how are you", "can you help me", "i have a question",
    "i would like to book an appointment", "can i book an appointment",
    "i'd like to make a booking",
    "do you have any free times", "are you available", "what times are free",
    "is there anything later", "anything earlier", "what time do you open",
    "what time do you close", "are you open on sunday", "where are you", "where are you located",
    "what's your address", "how much does it cost", "what are your prices", "how much is it",
    "can i speak to someone", "can i talk to a person", "i want to speak to the manager",
    "please call me back", "my name is", "it's for", "my number is", "can you repeat that",
    "sorry i didn't catch that", "never mind", "go ahead", "please book it", "that works",
    "that would be great", "that's fine", "sounds good", "perfect", "in the morning",
    "in the afternoon", "in the evening", "can i come in today", "can i come in later",
    "i need to change my appointment", "can i reschedule", "cancel my booking",
    "who is this", "who am i speaking with", "is this a real person", "am i talking to a robot",
    "how long is the wait", "do you take walk ins", "is there parking near you",
)  # fmt: skip


def speech_phrases(
    *,
    agent_name: str,
    business: str,
    knowledge: Iterable[tuple[str, str]],
    tools: Iterable[ToolSpec],
) -> tuple[str, ...]:
    """The persona's phrases, lowercase, one sentence each, then the everyday ones."""
    phrases = [f"this is {agent_name}", f"hi is this {business}", f"thanks for calling {business}"]
    for title, content in knowledge:
        phrases += [f"what are your {title}", f"tell me about {title}"]
        phrases += [sentence for sentence in re.split(r"[.!?;]\s*", content) if sentence]
    for spec in tools:
        phrases += [spec.title, *spec.keywords, spec.description]
    return tuple(dict.fromkeys([*_plain_phrases(phrases), *_EVERYDAY_PHRASES]))


def _plain(text: str) -> str:
    """Lowercase words, the way speech-to-text writes them."""
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split())


def _plain_phrases(phrases: Iterable[str]) -> list[str]:
    return [plain for phrase in phrases if (plain := _plain(phrase))]


# The same for every persona: made once, not at every call.
_EVERYDAY_PHRASES = _plain_phrases(
    [
        *EVERYDAY,
        *(f"on {day} at {time}" for day, time in itertools.product(DAYS, TIMES)),
        *(f"can i book {day} at {time}" for day, time in zip(DAYS, TIMES, strict=False)),
        *(f"my name is {first}" for first in FIRST_NAMES),
        *(f"{first} {last}" for first, last in itertools.product(FIRST_NAMES, LAST_NAMES)),
    ]
)
