"""The call's voice engines: PersonaPlex, Gemini Live and the cascade, behind one interface."""
