"""A call's caller audio, decoded from its wire format to `CallerAudio`.

PCM16 sent at one of the `SPEECH_RATES` keeps its samples as sent for speech detection, which
then resamples nothing; any other audio reaches speech detection as the PCM24k.
"""

from voice.audio.base import PCM_RATE, SPEECH_RATES, CallerAudio
from voice.audio.formats import caller_decoder
from voice.audio.formats.pcm16 import Pcm16Decoder


class CallerAudioDecoder:
    def __init__(self, format: str, rate: int = PCM_RATE) -> None:
        """Raises ValueError for an unknown format or a rate out of range (`caller_decoder`)."""
        self._decoder = caller_decoder(format, rate)
        self._sent: Pcm16Decoder | None = None  # when its samples as sent are the speech
        if isinstance(self._decoder, Pcm16Decoder) and rate in SPEECH_RATES:
            self._sent = self._decoder
        self.speech_rate = rate if self._sent is not None else PCM_RATE

    def decode(self, data: bytes) -> CallerAudio:
        """Feed wire bytes in any chunking: the audio decoded so far (maybe empty). Raises
        AudioDecodeError as the format's decoder does (it stays usable)."""
        if self._sent is not None:
            pcm, sent = self._sent.decode_sent(data)
            return CallerAudio(pcm, sent, self.speech_rate)
        return CallerAudio.at_24k(self._decoder.decode(data))

    def close(self) -> None:
        self._decoder.close()
