"""`make bench`: the voice bridge under load, measured against the budgets of ARCHITECTURE.md.

    python -m nexus_project.embedded -- python -m bench [--calls 50] [--seconds 30]
                                                              [--soak-minutes 0]

It sets up a `bench` tenant, starts a farm of PersonaPlex emulators and one daphne process, runs
that many simulated callers at once (PCM16 at 16 kHz in, real-time pace, tone bursts and silence),
and prints one table: the bridge's added latency (the server's per-call metrics) and end to end
latency (the callers' view), CPU per call-minute against the bare codec work, memory per call,
the VAD's false triggers and, with a soak, memory over time. It reports; it never fails on a
figure. Failed calls are counted and shown, never hidden.
"""
