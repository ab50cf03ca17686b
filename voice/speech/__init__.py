"""The caller's speech: voice activity (barge-in, turn cutting) and speech-to-text providers."""
