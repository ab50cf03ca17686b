"""WebM/Opus as Chromium's own MediaRecorder makes it, read as it arrives."""

import base64

import numpy as np
import pytest
from aiohttp import web

from bench.signals import dominant_frequency, tone
from bench.speech import write_wav
from voice.audio import PCM_RATE, caller_decoder
from voice.tests.browser import chromium

RECORDER_PAGE = """<!doctype html><script>
async function record(timesliceMs, seconds) {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const recorder = new MediaRecorder(stream, {mimeType: "audio/webm;codecs=opus"});
  const chunks = [];
  recorder.ondataavailable = async (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start(timesliceMs);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  recorder.stop();
  await stopped;
  const encoded = [];
  for (const chunk of chunks) {
    const bytes = new Uint8Array(await chunk.arrayBuffer());
    encoded.push(btoa(String.fromCharCode(...bytes)));
  }
  return encoded;
}
</script>"""


async def recorder_page(request: web.Request) -> web.Response:
    return web.Response(text=RECORDER_PAGE, content_type="text/html")


async def recorder_page_server() -> web.AppRunner:
    app = web.Application()
    app.router.add_get("/", recorder_page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def test_chromium_mediarecorder_chunks_decode_to_the_microphones_tone_as_they_arrive(
    tmp_path,
):
    # Given Chromium whose microphone plays 440 Hz, recording WebM/Opus in 40 ms timeslices
    mic = tmp_path / "tone.wav"
    write_wav(mic, tone(440, 4.0, 48_000), 48_000)
    runner = await recorder_page_server()
    port = runner.addresses[0][1]
    try:
        async with chromium(mic_wav=mic) as browser:
            page = await browser.new_page()
            await page.goto(f"http://127.0.0.1:{port}/")
            encoded = await page.evaluate("record(40, 3)")
    finally:
        await runner.cleanup()
    chunks = [base64.b64decode(chunk) for chunk in encoded if chunk]
    assert len(chunks) > 20

    # When the chunks are decoded one by one, as a call receives them
    decoder = caller_decoder("webm-opus", PCM_RATE)
    decoded = [decoder.decode(chunk) for chunk in chunks]
    decoded.append(decoder.flush())

    # Then nearly every chunk gave its audio at once, and the audio is the microphone's tone
    with_audio = sum(1 for pcm in decoded[1:-1] if len(pcm))
    assert with_audio >= 0.9 * (len(chunks) - 1)
    pcm = np.concatenate(decoded)
    assert len(pcm) >= 2 * PCM_RATE
    assert dominant_frequency(pcm[PCM_RATE // 2 :]) == pytest.approx(440, abs=3)
