"""`make bench`: the voice bridge under load, measured against the budgets of ARCHITECTURE.md.

    python -m nexus_project.embedded -- python -m bench [--calls 20] [--seconds 15]
        [--steps 10,20,40] [--formats pcm16-16k,pcm16-24k,webm-opus] [--frame-ms 40]
        [--soak-minutes 0]

It sets up a `bench` tenant, starts a farm of PersonaPlex emulators and one daphne process at a
time, and for each caller format (PCM16 at 16 and 24 kHz, WebM/Opus as a browser's MediaRecorder
makes it; frames of `--frame-ms`, real-time pace, tone bursts and silence) steps the load up to
find the sustained calls per core of the bridge alone (no speech-to-text) and of the whole product,
and runs that many simulated callers at once against the whole product. It prints one table: per
format, the bridge's added latency (the server's per-call metrics, counted from daphne's receipt)
and end to end latency (the callers' view), daphne's CPU per call-minute against the bare codec
work and that against the libopus floor, memory per call; then the VAD's false triggers and, with a
soak, memory over time. It reports; it never fails on a figure. Failed calls are counted and shown,
never hidden.
"""
