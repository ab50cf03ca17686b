"""Cutting an agent's streamed answer into sentences, so each is spoken as soon as it is whole."""

import re

# A sentence ends at . ! ? followed by a space, or at a line break; "9.30" is not an end (no
# space follows), nor is a title such as "Dr.".
_END = re.compile(r"[.!?]+(?=\s)|\n+")
_TITLES = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "mt", "vs", "no", "e.g", "i.e"}
_MAX_CHARS = 240  # a run-on answer is cut at a comma or a space past this length


class SentenceSplitter:
    """Feed the answer's text so far; get the sentences completed since the last feed."""

    def __init__(self) -> None:
        self._done = 0  # characters of the answer already handed out

    def feed(self, text_so_far: str) -> list[str]:
        sentences: list[str] = []
        while True:
            rest = text_so_far[self._done :]
            cut = _sentence_end(rest) or _long_cut(rest)
            if cut is None:
                return sentences
            if sentence := rest[:cut].strip():
                sentences.append(sentence)
            self._done += cut

    def finish(self, text: str) -> list[str]:
        """The sentences left once the whole answer is known."""
        sentences = self.feed(text)
        if rest := text[self._done :].strip():
            sentences.append(rest)
        self._done = len(text)
        return sentences


def _sentence_end(text: str) -> int | None:
    for end in _END.finditer(text):
        last_word = text[: end.start()].rsplit(maxsplit=1)[-1:] or [""]
        if last_word[0].lower() not in _TITLES:
            return end.end()
    return None


def _long_cut(rest: str) -> int | None:
    if len(rest) <= _MAX_CHARS:
        return None
    head = rest[:_MAX_CHARS]
    cut = max(head.rfind(", "), head.rfind(" "))
    return cut + 1 if cut > 0 else _MAX_CHARS
