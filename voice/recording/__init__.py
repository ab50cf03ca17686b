"""Call recordings: both sides of a voice call in one Opus file, when the tenant records calls.

`recorder` makes it as the call goes (`mixing` places each side on the call's timeline, `writer`
encodes to Ogg/Opus on its own thread), `storage` keeps it as `Call.recording`, `views` serves it
to the tenant's staff, `retention` deletes it when the tenant's retention is over.
"""
