"""The voice prompts a PersonaPlex server ships with; a persona may only use one of these."""

NATURAL = [f"NAT{gender}{n}.pt" for gender in "FM" for n in range(4)]
VARIETY = [f"VAR{gender}{n}.pt" for gender in "FM" for n in range(5)]
VOICE_IDS: tuple[str, ...] = tuple(NATURAL + VARIETY)


def voice_label(voice_id: str) -> str:
    """A human label for a voice file name, e.g. "NATF0.pt" -> "Natural female 0"."""
    family = "Natural" if voice_id.startswith("NAT") else "Variety"
    gender = "female" if voice_id[3] == "F" else "male"
    return f"{family} {gender} {voice_id[4]}"


VOICE_CHOICES = [(voice_id, voice_label(voice_id)) for voice_id in VOICE_IDS]
