"""Matching a caller's words to the persona's knowledge, with no model.

Word stems are compared: lowercase, no punctuation, no stop-words, naive suffix stripping, so
"when are you open?" finds "Opening hours". The offline agent answers with the best match, the
offline analysis names the caller's intent after it, and `knowledge_search` ranks by words.
"""

import re

_STOP_WORD_LIST = """
    a about all also am an and any are as at be been but by can could did do does doing for from
    get got had has have he her here him his how i id if ill im in into is it its ive just know
    let like me might more much my need no not of ok okay on or our please she should so some
    tell than that thats the their them then there these they this those to too um uh us very
    want was we were what whats when where which who why will with would yes you youd youre your
    hello hi hey hiya howdy good morning afternoon evening thank thanks bye goodbye
"""
_STOP_WORDS = frozenset(_STOP_WORD_LIST.split())


def words(text: str) -> list[str]:
    """Lowercase words without punctuation; apostrophes vanish ("what's" -> "whats")."""
    return re.sub(r"[^a-z0-9]+", " ", re.sub(r"['\u2019]", "", text.lower())).split()


def stem(word: str) -> str:
    """Naive suffix stripping, the same for both sides: "opening"/"opens" -> "open"."""
    for suffix, replacement, min_length in (("ies", "y", 5), ("ing", "", 6), ("ed", "", 5)):
        if word.endswith(suffix) and len(word) >= min_length:
            word = word[: -len(suffix)] + replacement
            if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # "trimmed" -> "trimm" -> "trim"
            break
    else:
        if word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    return word[:-1] if len(word) > 3 and word.endswith("e") else word  # "close"/"closed"


# Question words callers use for things knowledge titles call otherwise.
_CONCEPTS = {
    "when": ("hours", "open"),
    "much": ("price", "cost"),
    "cost": ("price",),
    "charge": ("price",),
    "where": ("address", "location"),
}


def _stems(text: str) -> set[str]:
    return {stem(word) for word in words(text) if word not in _STOP_WORDS}


def _query_stems(text: str) -> set[str]:
    stems = _stems(text)
    for word in words(text):
        stems.update(stem(concept) for concept in _CONCEPTS.get(word, ()))
    return stems


def best_knowledge(knowledge: tuple[tuple[str, str], ...], question: str) -> str | None:
    """The content of the item sharing the most stems with ``question`` (title words count
    double; ties go to the earlier item), or None when nothing is shared."""
    query = _query_stems(question)
    best_score, best_content = 0, None
    for title, content in knowledge:
        score = 2 * len(query & _stems(title)) + len(query & _stems(content))
        if score > best_score:
            best_score, best_content = score, content
    return best_content
