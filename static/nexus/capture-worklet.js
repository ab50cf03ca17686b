/* Nexus widget: microphone capture (AudioWorklet).
 * Downmixes every input channel to mono (Chromium hands the worklet 2 channels even for a mono
 * track) and posts one frame of signed 16-bit PCM of `frameSamples` (20 ms unless told) at the
 * context's sample rate, with the frame's RMS level for the caller's level meter. */
class NexusCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.size = opts.frameSamples || Math.round(sampleRate / 50);
    this.frame = new Int16Array(this.size);
    this.filled = 0;
    this.energy = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const channels = input.length;
    const length = input[0].length;
    for (let i = 0; i < length; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += input[c][i];
      s /= channels;
      if (s > 1) s = 1;
      else if (s < -1) s = -1;
      this.energy += s * s;
      this.frame[this.filled++] = s < 0 ? Math.round(s * 32768) : Math.round(s * 32767);
      if (this.filled === this.size) {
        const level = Math.sqrt(this.energy / this.size);
        this.port.postMessage({ pcm: this.frame.buffer, level }, [this.frame.buffer]);
        this.frame = new Int16Array(this.size);
        this.filled = 0;
        this.energy = 0;
      }
    }
    return true;
  }
}

registerProcessor("nexus-capture", NexusCapture);
