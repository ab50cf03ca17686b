"""Offline text-to-speech: eSpeak NG, the library and voice data of the espeakng-loader wheel.

No network and no system package: ctypes loads the wheel's ``libespeak-ng.so`` and points it at
the wheel's ``espeak-ng-data``. eSpeak keeps one global state per process (its voice, rate and
audio callback), so everything that touches it runs on one worker thread, one sentence at a
time: that serializes the calls of a process and keeps the event loop free (ctypes releases the
GIL while eSpeak works; a sentence takes milliseconds). The library loads at the first sentence.

The call's language picks eSpeak's best voice for it ("en": US English; a language eSpeak does
not know: English, logged), a female `Voice` its female variant; 22 050 Hz becomes PCM24k.
"""

import asyncio
import ctypes
import itertools
import logging
import os
from concurrent.futures import ThreadPoolExecutor

import espeakng_loader  # type: ignore[import-untyped]  # no py.typed marker
import numpy as np

from voice.audio.base import empty_pcm, join_pcm
from voice.audio.formats.pcm16 import Pcm16Decoder
from voice.engines.voices import Voice
from voice.speech.tts import SpeechSynthesisError

logger = logging.getLogger(__name__)

RATE_WPM = 160  # a little slower than eSpeak's 175: clearer over a phone line
LANGUAGE_PREFERENCES = {"en": "en-us"}  # eSpeak's own first choice for "en" is British
DEFAULT_VOICE = "gmw/en-US"
# Of eSpeak's variants, the female and male ones speech recognizers get best (the plain voice
# loses words such as "Tuesday").
FEMALE_VARIANT = "+f5"
MALE_VARIANT = "+m3"

# From eSpeak NG's speak_lib.h.
AUDIO_OUTPUT_SYNCHRONOUS = 2  # espeak_Synth returns when the text is spoken, via the callback
BUFFER_MS = 500  # audio per callback
INITIALIZE_DONT_EXIT = 0x8000  # report a missing data path instead of exiting the process
POS_CHARACTER = 1
CHARS_UTF8 = 1
ENDPAUSE = 0x1000  # a sentence's pause at the end, so sentences spoken in turn do not run on
RATE = 1  # espeak_PARAMETER
EE_OK = 0

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _VoiceSpec(ctypes.Structure):
    """speak_lib.h's espeak_VOICE."""

    _fields_ = [
        ("name", ctypes.c_char_p), ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p), ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte), ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]  # fmt: skip


class _Espeak:
    """The process's eSpeak NG; used from the `_worker` thread only."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_ListVoices.argtypes = [ctypes.POINTER(_VoiceSpec)]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceSpec))
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        data_path = espeakng_loader.get_data_path().encode()
        self.sample_rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS, data_path, INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise SpeechSynthesisError(f"eSpeak NG did not start with its data at {data_path!r}")
        self._lib = lib
        self._callback = _SynthCallback(self._collect)  # kept: eSpeak holds a bare pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._chunks: list[np.ndarray] = []
        self._voices: dict[tuple[str, bool], str] = {}  # (language, female) -> eSpeak voice
        self._voice = ""

    def speak(self, text: str, language: str, female: bool) -> np.ndarray:
        """``text`` spoken at eSpeak's own sample rate."""
        self._use_voice(language, female)
        self._chunks = []
        data = text.encode()
        status = self._lib.espeak_Synth(
            data, len(data) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8 | ENDPAUSE, None, None
        )
        if status != EE_OK:
            raise SpeechSynthesisError(f"eSpeak NG failed to speak (status {status})")
        return join_pcm(self._chunks)

    def _collect(self, samples: "ctypes._Pointer[ctypes.c_short]", count: int, _: int) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(count,)).copy())
        return 0  # go on

    def _use_voice(self, language: str, female: bool) -> None:
        if (language, female) not in self._voices:
            variant = FEMALE_VARIANT if female else MALE_VARIANT
            self._voices[language, female] = self._best_voice(language) + variant
        name = self._voices[language, female]
        if name != self._voice:
            if self._lib.espeak_SetVoiceByName(name.encode()) != EE_OK:
                raise SpeechSynthesisError(f"eSpeak NG has no voice {name!r}")
            self._voice = name
            # A voice brings its own speed: set ours after each change.
            self._lib.espeak_SetParameter(RATE, RATE_WPM, 0)

    def _best_voice(self, language: str) -> str:
        code = language.strip().lower()
        spec = _VoiceSpec(languages=LANGUAGE_PREFERENCES.get(code, code).encode())
        ranked = self._lib.espeak_ListVoices(ctypes.byref(spec))  # best first, NULL-terminated
        found = itertools.takewhile(bool, (ranked[i] for i in itertools.count()))
        identifiers = (voice.contents.identifier.decode() for voice in found)
        # "!v/" holds variants (a pitch, a breath), not voices of a language.
        best = next((name for name in identifiers if not name.startswith("!v/")), None)
        if best is None:
            logger.warning("eSpeak NG has no voice for %r: speaking English", language)
        return best or DEFAULT_VOICE


_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")
_espeak: _Espeak | None = None  # on the worker thread: the process's eSpeak, at first use


def _worker_of_its_own() -> None:
    """A forked process (a test's live server) has none of its parent's threads: the worker it
    inherited would never run anything, so it gets a new one."""
    global _worker
    _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")


os.register_at_fork(after_in_child=_worker_of_its_own)


def speak_pcm24k(text: str, language: str, female: bool) -> np.ndarray:
    """``text`` spoken by eSpeak as PCM24k; runs on the worker thread."""
    global _espeak
    if _espeak is None:
        _espeak = _Espeak()
    native = _espeak.speak(text, language, female)
    decoder = Pcm16Decoder(_espeak.sample_rate)
    return join_pcm([decoder.decode(native.astype("<i2").tobytes()), decoder.flush()])


class EspeakTextToSpeech:
    """The "offline" TextToSpeech provider; instances are cheap and share the process's eSpeak."""

    async def synthesize(self, text: str, voice: Voice, language: str = "en") -> np.ndarray:
        if not text.strip():
            return empty_pcm()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_worker, speak_pcm24k, text, language, voice.female)
