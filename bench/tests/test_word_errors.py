"""The word error measurement: the persona's phrases, and errors counted over words said."""

from bench.word_errors import persona_phrases, word_error_figures


def test_the_persona_phrases_hold_its_knowledge_tools_and_everyday_words():
    phrases = persona_phrases()

    assert "12 elm street, next to the bakery".replace(",", "") in phrases
    assert {"booking", "free times", "walk in", "yes please", "jamie lee"} <= set(phrases)
    assert all(phrase == phrase.lower() for phrase in phrases)


def test_word_errors_are_counted_over_the_words_said():
    figures = word_error_figures(("yes please", "my name is jamie lee"))

    assert (figures.words, figures.in_phrases) == (7, 1)
    assert [item.persona for item in figures.decoded] == ["yes please", "my name is jamie lee"]
    general_errors = sum(item.general != item.said for item in figures.decoded)
    assert figures.persona == 0.0 and (figures.general > 0) == (general_errors > 0)
