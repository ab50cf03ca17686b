/* Nexus widget: the agent's voice (AudioWorklet).
 * A jitter buffer of 24 kHz mono PCM16 (posted as ArrayBuffers) played at the context's rate by
 * linear interpolation. Playback starts once `threshold` is queued; every underrun raises the
 * threshold (20 ms, up to 300 ms), a long smooth run lowers it again. Underruns fade out instead
 * of clicking; a standing excess (audio that came in a burst) is skipped during silence, so
 * latency stays near the threshold. {type:"flush"} drops everything queued at once (a 5 ms fade
 * of what was playing) and answers {type:"flushed"}. Counters are in agent samples (24 kHz). */
const IN_RATE = 24000;
const MS = IN_RATE / 1000;

class NexusPlayback extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = IN_RATE / sampleRate; // agent samples per output sample
    this.cap = IN_RATE * 8;
    this.ring = new Float32Array(this.cap);
    this.written = 0; // agent samples ever queued (absolute position)
    this.readPos = 0; // where playback is, same axis, fractional
    this.playing = false;
    this.gain = 0;
    this.minStart = 60 * MS;
    this.maxStart = 300 * MS;
    this.threshold = 100 * MS;
    this.smooth = 0; // output samples played since the last underrun
    this.tail = null; // what was playing at a flush, faded out
    this.tailAt = 0;
    this.loudUntil = 0;
    this.speaking = false;
    this.frames = 0;
    this.statsEvery = Math.max(1, Math.round((0.05 * sampleRate) / 128));
    this.blocks = 0;
    this.lowest = Infinity; // the smallest queue seen in the current window
    this.window = 0;
    this.n = { received: 0, played: 0, underruns: 0, dropped: 0, flushes: 0, skipped: 0 };
    this.port.onmessage = (event) => this.onMessage(event.data);
  }

  get queued() {
    return Math.max(0, Math.floor(this.written - this.readPos));
  }

  onMessage(data) {
    if (data instanceof ArrayBuffer) {
      this.enqueue(new Int16Array(data, 0, data.byteLength >> 1));
    } else if (data && data.type === "flush") {
      const dropped = this.queued;
      this.tail = new Float32Array(Math.round(0.005 * sampleRate));
      if (this.playing) this.render(this.tail, true);
      this.tailAt = 0;
      this.readPos = this.written;
      this.playing = false;
      this.n.flushes += data.count === false ? 0 : 1;
      this.n.dropped += dropped;
      this.port.postMessage({ type: "flushed", id: data.id, dropped, stats: this.stats() });
    }
  }

  enqueue(pcm) {
    for (let i = 0; i < pcm.length; i++) {
      this.ring[(this.written + i) % this.cap] = pcm[i] / 32768;
    }
    this.written += pcm.length;
    this.n.received += pcm.length;
    if (this.written - this.readPos > this.cap - 1) this.readPos = this.written - this.cap + 1;
    // Far behind real time (a stalled network delivering in a burst): catch up.
    const excess = this.written - this.readPos - (this.threshold + 400 * MS);
    if (this.playing && excess > 0) {
      this.readPos += excess;
      this.n.skipped += Math.round(excess);
    }
  }

  /* Fill `out` from the queue; with `fading`, ramp down to silence over `out` (for a flush).
   * Returns false when the queue ran dry (what was left was faded out). */
  render(out, fading) {
    const need = (out.length - 1) * this.step + 1;
    const have = this.written - 1 - this.readPos;
    let count = out.length;
    let fadeFrom = -1;
    if (fading) fadeFrom = 0;
    if (have < need) {
      count = Math.max(0, Math.floor(have / this.step));
      fadeFrom = 0; // running dry: fade out over what is left, then silence
    }
    const start = this.gain;
    for (let j = 0; j < count; j++) {
      const pos = this.readPos;
      const i0 = Math.floor(pos);
      const a = this.ring[i0 % this.cap];
      const b = this.ring[(i0 + 1) % this.cap];
      let g = this.gain;
      if (fadeFrom >= 0) g = start * (1 - (j + 1) / count);
      else if (g < 1) this.gain = g = Math.min(1, g + 1 / 240);
      out[j] = (a + (b - a) * (pos - i0)) * g;
      this.readPos += this.step;
      this.n.played += this.step;
    }
    out.fill(0, count);
    if (fadeFrom >= 0) this.gain = 0;
    return have >= need;
  }

  process(inputs, outputs) {
    const channels = outputs[0];
    const out = channels[0];
    out.fill(0);
    if (!this.playing && this.queued >= this.threshold) {
      this.playing = true;
      this.gain = 0;
    }
    if (this.playing) {
      if (!this.render(out, false)) {
        this.playing = false;
        this.n.underruns += 1;
        this.threshold = Math.min(this.maxStart, this.threshold + 20 * MS);
        this.smooth = 0;
      } else if ((this.smooth += out.length) > sampleRate * 10) {
        this.threshold = Math.max(this.minStart, this.threshold - 10 * MS);
        this.smooth = 0;
      }
    }
    if (this.tail) {
      for (let j = 0; j < out.length && this.tailAt < this.tail.length; j++) {
        out[j] += this.tail[this.tailAt++];
      }
      if (this.tailAt >= this.tail.length) this.tail = null;
    }
    for (let c = 1; c < channels.length; c++) channels[c].set(out);
    const quiet = this.meter(out);
    this.trim(out.length, quiet);
    return true;
  }

  /* Audio that arrived in a burst stays queued for good (it plays at the rate it comes in),
   * adding latency. Once a second, if the queue never went below threshold + 30 ms, skip the
   * standing excess, during a quiet block so the jump is inaudible. */
  trim(frames, quiet) {
    if (!this.playing) {
      this.lowest = Infinity;
      this.window = 0;
      return;
    }
    this.lowest = Math.min(this.lowest, this.queued);
    this.window += frames;
    if (this.window < sampleRate) return;
    const excess = this.lowest - this.threshold;
    if (excess <= 30 * MS) {
      this.lowest = Infinity;
      this.window = 0;
    } else if (quiet) {
      this.readPos += excess;
      this.n.skipped += excess;
      this.lowest = Infinity;
      this.window = 0;
    }
  }

  meter(out) {
    let energy = 0;
    for (let j = 0; j < out.length; j++) energy += out[j] * out[j];
    this.frames += out.length;
    const loud = Math.sqrt(energy / out.length) > 0.01;
    if (loud) this.loudUntil = this.frames + 0.25 * sampleRate;
    const speaking = this.frames < this.loudUntil;
    const changed = speaking !== this.speaking;
    this.speaking = speaking;
    if (changed || ++this.blocks % this.statsEvery === 0) {
      this.port.postMessage({ type: "stats", stats: this.stats() });
    }
    return !loud;
  }

  stats() {
    return {
      received: this.n.received,
      played: Math.round(this.n.played),
      queued: this.queued,
      underruns: this.n.underruns,
      flushes: this.n.flushes,
      dropped: this.n.dropped,
      skipped: this.n.skipped,
      thresholdMs: Math.round(this.threshold / MS),
      speaking: this.speaking,
    };
  }
}

registerProcessor("nexus-playback", NexusPlayback);
