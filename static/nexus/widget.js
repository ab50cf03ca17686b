/*! Nexus caller widget. Embed with one tag:
 *   <script src="https://<nexus host>/static/nexus/widget.js" data-key="pk_..." async></script>
 * Speaks the caller protocol of /ws/call/ (docs/client-protocol.md); see docs/widget.md.
 * Renders in its own shadow DOM; defines one global, window.Nexus. No dependencies. */
(function () {
  "use strict";
  if (window.Nexus) {
    if (window.console) console.warn("Nexus widget: already on this page; extra tag ignored.");
    return;
  }
  var script =
    document.currentScript || document.querySelector('script[src*="/nexus/widget.js"]');
  if (!script || !script.src) return;

  var data = script.dataset;
  var src = new URL(script.src, location.href);
  var server = data.server ? new URL(data.server, location.href) : src; // widget.js on a CDN
  var config = {
    key: data.key || "",
    agent: data.agent || "",
    position: data.position === "bottom-left" ? "bottom-left" : "bottom-right",
    color: data.color && window.CSS && CSS.supports("color", data.color) ? data.color : "",
    label: data.label || "Talk to us",
    mode: data.mode === "text" ? "text" : "voice",
    open: data.open === "true",
    socket: (server.protocol === "https:" ? "wss://" : "ws://") + server.host + "/ws/call/",
    assets: new URL(".", src).href,
  };

  var REFUSED = {
    4400: "The call could not start: the server did not accept the call settings.",
    4401: config.key
      ? "This assistant's key is not valid (missing, unknown or revoked)."
      : "A test call needs you to be signed in to this admin.",
    4403: "This site is not allowed to use this assistant.",
    4404: "This assistant is not available right now.",
    4429: "All lines are busy right now. Please try again in a few minutes.",
  };
  var MODE_NOTES = {
    sidecar_unavailable: "Voice is unavailable, you can keep typing.",
    sidecar_busy: "All voice lines are busy, you can keep typing.",
    sidecar_loading: "Voice is getting ready, you can type meanwhile.",
    recovered: "Voice is back.",
  };
  // A voice call moved to another voice engine (`mode` `voice` with an `engine`, not recovered).
  var STANDBY_NOTE = "The main voice is unavailable: a standby voice answers meanwhile.";
  // Shown as the call opens (`session` with `recording: true`), before anything is said.
  var RECORDING_NOTE = "This call is recorded.";
  var ENDED = {
    caller_hangup: "You ended the call.",
    agent_ended: "The assistant ended the call.",
    timeout: "The call ended after a long silence.",
    max_duration: "The call reached its time limit.",
    bad_audio: "The call ended: your microphone's audio could not be read.",
    error: "The call ended because of a problem on our side.",
  };
  var MAX_RECONNECTS = 5;
  var FRAME_MS = 40; // microphone audio per message: half the messages of 20 ms frames
  var MAX_BUFFERED = 256 * 1024; // bytes waiting in the socket: past this, drop mic frames

  var debug = {
    callId: null,
    recording: null, // the current call's audio is recorded (the `session` message says so)
    calls: 0,
    state: "idle",
    mode: null,
    sampleRate: null,
    sentFrames: 0,
    sentBytes: 0,
    droppedFrames: 0,
    audioBytes: 0,
    playback: { received: 0, played: 0, queued: 0, underruns: 0, flushes: 0, dropped: 0 },
    agentSpoke: 0, // times the agent's voice started playing (output above -40 dBFS)
    interrupts: 0,
    flushes: [], // {ms, dropped}: from `interrupt` on the socket to the worklet's empty queue
    lastFlushMs: null,
    messages: {},
    closeCode: null,
    rttMs: null,
    micError: null,
  };

  var ui = {};
  var call = null; // the current call: its socket and what it has shown
  var audio = { ctx: null, stream: null, source: null, capture: null, playback: null };
  var worklets = null;
  var pendingTexts = [];
  var reconnects = 0;
  var reconnectTimer = null;
  var flushes = {};
  var flushId = 0;
  var level = 0;
  var levelFrame = 0;
  var agentName = config.label;
  var started = false;
  var starting = null; // a voice call waiting for its microphone

  // ---- The view --------------------------------------------------------------------------

  var ICONS = {
    phone:
      '<path d="M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z"/>',
    hangup:
      '<path d="M12 9c-1.6 0-3.15.25-4.6.72v3.1a1 1 0 0 1-.56.9 11.5 11.5 0 0 0-2.66 1.85 1 1 0 0 1-1.41-.01L.29 13.08a1 1 0 0 1 0-1.41A16.9 16.9 0 0 1 12 7c4.57 0 8.72 1.8 11.71 4.67a1 1 0 0 1 0 1.41l-2.48 2.48a1 1 0 0 1-1.41.01 11.3 11.3 0 0 0-2.67-1.85 1 1 0 0 1-.56-.9v-3.1A15 15 0 0 0 12 9z"/>',
    mic: '<path d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11z"/>',
    send: '<path d="M2 21l21-9L2 3v7l15 2-15 2z"/>',
    close: '<path d="M19 6.4L17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z"/>',
  };

  var CSS_TEXT =
    ":host{all:initial}" +
    "*{box-sizing:border-box}[hidden]{display:none!important}" +
    ".root{--c:#2563eb;position:fixed;bottom:20px;right:20px;z-index:2147483000;" +
    "font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111827}" +
    ".root.left{right:auto;left:20px}" +
    "button{font:inherit;cursor:pointer;border:0;border-radius:999px;display:inline-flex;" +
    "align-items:center;justify-content:center;gap:6px}" +
    "button:focus-visible,input:focus-visible,.title:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}" +
    "svg{width:20px;height:20px;fill:currentColor;flex:none}" +
    ".launcher{background:var(--c);color:#fff;height:56px;min-width:56px;padding:0 18px;" +
    "box-shadow:0 6px 20px rgba(0,0,0,.25);font-weight:600}" +
    ".root.in-call .launcher{animation:pulse 2s infinite}" +
    "@keyframes pulse{50%{box-shadow:0 0 0 8px rgba(0,0,0,.08),0 6px 20px rgba(0,0,0,.25)}}" +
    ".panel{position:absolute;bottom:68px;right:0;width:360px;max-width:calc(100vw - 24px);" +
    "height:min(560px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;" +
    "border-radius:16px;box-shadow:0 12px 40px rgba(0,0,0,.28);overflow:hidden}" +
    ".root.left .panel{right:auto;left:0}" +
    "header{background:var(--c);color:#fff;padding:12px 12px 12px 16px;display:flex;align-items:center;gap:8px}" +
    ".title{flex:1;min-width:0;outline:none}.name{display:block;font-weight:700;font-size:15px;" +
    "white-space:nowrap;overflow:hidden;text-overflow:ellipsis}.status{display:block;font-size:12px;opacity:.92}" +
    ".icon{background:transparent;color:inherit;width:40px;height:40px;padding:0}" +
    ".icon:hover{background:rgba(0,0,0,.08)}header .icon:hover{background:rgba(255,255,255,.18)}" +
    ".bar{display:flex;align-items:center;gap:8px;padding:8px 12px;border-bottom:1px solid #e5e7eb;min-height:56px}" +
    ".speaker{display:flex;align-items:center;gap:6px;flex:1;min-width:0;font-size:13px;color:#374151}" +
    ".agent-state{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}" +
    ".wave{display:flex;gap:2px;align-items:center;height:18px}.wave i{width:3px;height:4px;" +
    "background:#9ca3af;border-radius:2px}" +
    ".speaking .wave i{background:var(--c);animation:wave .9s infinite ease-in-out}" +
    ".speaking .wave i:nth-child(2){animation-delay:.15s}.speaking .wave i:nth-child(3){animation-delay:.3s}" +
    "@keyframes wave{50%{height:18px}}" +
    ".meter{width:56px;height:8px;border-radius:4px;background:#e5e7eb;overflow:hidden}" +
    ".meter i{display:block;height:100%;width:100%;background:#10b981;transform-origin:left;" +
    "transform:scaleX(0);transition:transform 60ms linear}" +
    ".muted .meter i{background:#9ca3af}" +
    ".mute{background:#f3f4f6;color:#374151}.mute[aria-pressed=true]{background:#fee2e2;color:#b91c1c}" +
    ".start{background:#10b981;color:#fff;height:40px;padding:0 14px}" +
    ".hangup{background:#dc2626;color:#fff;height:40px;padding:0 14px}" +
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f9fafb}" +
    ".msg{max-width:85%;padding:8px 12px;border-radius:14px;background:#fff;border:1px solid #e5e7eb;" +
    "white-space:pre-wrap;word-wrap:break-word}" +
    ".msg .who{display:block;font-size:11px;font-weight:600;color:#6b7280;margin-bottom:2px}" +
    ".msg.caller{align-self:flex-end;background:var(--c);color:#fff;border-color:transparent}" +
    ".msg.caller .who{color:rgba(255,255,255,.85)}" +
    ".msg.partial{opacity:.7;font-style:italic}.msg.cut:after{content:' (interrupted)';font-size:11px;opacity:.8}" +
    ".tool{align-self:center;font-size:12px;background:#eef2ff;color:#3730a3;border-radius:10px;" +
    "padding:6px 10px;display:flex;gap:6px;max-width:95%}" +
    ".tool.failed{background:#fef2f2;color:#991b1b}.tool b{font-weight:600}" +
    ".note{align-self:center;text-align:center;font-size:12px;color:#4b5563;max-width:95%}" +
    ".note.error{color:#991b1b;background:#fef2f2;border-radius:10px;padding:6px 10px}" +
    ".note.recording{color:#92400e;background:#fffbeb;border:1px solid #fcd34d;border-radius:10px;" +
    "padding:6px 10px;font-weight:600}.note.recording:before{content:'\\25CF  ';color:#dc2626}" +
    "form{display:flex;gap:8px;padding:10px 12px;border-top:1px solid #e5e7eb;background:#fff}" +
    "input{flex:1;min-width:0;font:inherit;color:#111827;background:#fff;border:1px solid #d1d5db;" +
    "border-radius:999px;padding:10px 14px}" +
    ".send{background:var(--c);color:#fff;width:44px;height:44px;padding:0}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "@media (max-width:480px){.root,.root.left{bottom:12px;right:12px;left:auto}.root.left{left:12px;right:auto}" +
    ".panel{position:fixed;left:0;right:0;bottom:0;width:100%;max-width:100%;height:88vh;" +
    "border-radius:16px 16px 0 0}.root.left .panel{left:0}}" +
    "@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}";

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "class") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function icon(name) {
    var span = document.createElement("span");
    span.setAttribute("aria-hidden", "true");
    span.style.display = "contents";
    span.innerHTML = '<svg viewBox="0 0 24 24">' + ICONS[name] + "</svg>"; // constants only
    return span;
  }

  function render() {
    var host = el("div", { "data-nexus-widget": "" });
    // Page rules on the host (display:none, a transform that would break position:fixed...)
    // lose to inline !important.
    host.setAttribute("style", "all:initial!important;display:block!important");
    var shadow = host.attachShadow({ mode: "open" });
    shadow.appendChild(el("style", { text: CSS_TEXT }));
    ui.launcherText = el("span", { text: config.label });
    ui.launcher = el(
      "button",
      { class: "launcher", "aria-expanded": "false", "aria-controls": "panel", type: "button" },
      [icon("phone"), ui.launcherText]
    );
    ui.name = el("span", { class: "name", text: config.label });
    ui.status = el("span", { class: "status", role: "status", text: "Not connected" });
    ui.title = el("div", { class: "title", tabindex: "-1" }, [ui.name, ui.status]);
    ui.close = el("button", { class: "icon", type: "button", "aria-label": "Minimize" }, [
      icon("close"),
    ]);
    ui.agentState = el("span", { class: "agent-state", text: "Not in a call" });
    ui.speaker = el("div", { class: "speaker" }, [
      el("span", { class: "wave", "aria-hidden": "true" }, [el("i"), el("i"), el("i")]),
      ui.agentState,
    ]);
    ui.meterFill = el("i");
    ui.meter = el(
      "div",
      {
        class: "meter",
        role: "meter",
        "aria-label": "Your microphone level",
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": "0",
      },
      [ui.meterFill]
    );
    ui.mute = el(
      "button",
      { class: "icon mute", type: "button", "aria-pressed": "false", "aria-label": "Mute microphone" },
      [icon("mic")]
    );
    ui.start = el("button", { class: "start", type: "button" }, [
      icon("phone"),
      el("span", { text: "Call" }),
    ]);
    ui.hangupText = el("span", { text: "Hang up" });
    ui.hangup = el("button", { class: "hangup", type: "button" }, [icon("hangup"), ui.hangupText]);
    ui.log = el("div", {
      class: "log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      tabindex: "0",
    });
    ui.input = el("input", {
      id: "text",
      type: "text",
      maxlength: "2000",
      autocomplete: "off",
      placeholder: "Type a message",
    });
    ui.form = el("form", { "aria-label": "Send a message" }, [
      el("label", { class: "sr", for: "text", text: "Type a message" }),
      ui.input,
      el("button", { class: "send", type: "submit", "aria-label": "Send message" }, [icon("send")]),
    ]);
    ui.panel = el("section", { class: "panel", id: "panel", role: "dialog", hidden: "" }, [
      el("header", {}, [ui.title, ui.close]),
      el("div", { class: "bar" }, [ui.speaker, ui.meter, ui.mute, ui.start, ui.hangup]),
      ui.log,
      ui.form,
    ]);
    ui.root = el("div", { class: "root" + (config.position === "bottom-left" ? " left" : "") }, [
      ui.panel,
      ui.launcher,
    ]);
    if (config.color) ui.root.style.setProperty("--c", config.color);
    shadow.appendChild(ui.root);
    document.body.appendChild(host);

    ui.launcher.addEventListener("click", function () {
      if (ui.panel.hidden) open(null);
      else minimize();
    });
    ui.close.addEventListener("click", minimize);
    ui.panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") minimize();
    });
    ui.start.addEventListener("click", function () {
      startCall("voice");
    });
    ui.hangup.addEventListener("click", hangUp);
    ui.mute.addEventListener("click", toggleMute);
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      sendText(ui.input.value);
    });
    setState("idle");
    if (config.open) open();
  }

  function setLabel() {
    var what = agentName || config.label;
    ui.panel.setAttribute("aria-label", "Conversation with " + what);
    ui.name.textContent = what;
    ui.launcher.setAttribute("aria-label", config.label + (ui.panel.hidden ? "" : " (minimize)"));
  }

  /* Show the panel; the first time, start a call in `mode` (the widget's default if none). */
  function open(mode) {
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    setLabel();
    ui.title.focus();
    if (!started) startCall(mode || config.mode);
  }

  function minimize() {
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    setLabel();
    ui.launcher.focus();
  }

  function setState(state, status) {
    debug.state = state;
    var live = state === "connecting" || state === "live";
    var voice = !!(call && call.mode === "voice" && live);
    ui.root.classList.toggle("in-call", live);
    ui.start.hidden = live;
    ui.start.setAttribute("aria-label", started ? "Call again" : "Start a voice call");
    ui.hangup.hidden = !live;
    ui.hangupText.textContent = call && call.mode === "text" ? "End chat" : "Hang up";
    ui.mute.hidden = !voice;
    ui.meter.hidden = !voice;
    if (!live) agentSpeaking(false, true);
    if (status) ui.status.textContent = status;
    else if (state === "idle") ui.status.textContent = "Not connected";
  }

  function scrolledDown() {
    return ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
  }

  function append(node) {
    var follow = scrolledDown();
    ui.log.appendChild(node);
    if (follow) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function note(text, kind) {
    append(el("div", { class: "note" + (kind ? " " + kind : ""), text: text }));
  }

  function caption(c, m) {
    var key = c.n + ":" + m.id;
    var item = c.entries[key];
    var follow = scrolledDown();
    if (!item) {
      item = c.entries[key] = el("div", { class: "msg " + (m.role === "caller" ? "caller" : "agent") }, [
        el("span", { class: "who", text: m.role === "caller" ? "You" : agentName || "Assistant" }),
        el("span", { class: "text" }),
      ]);
      ui.log.appendChild(item);
    }
    item.lastChild.textContent = m.text;
    item.classList.toggle("partial", !m.final);
    item.classList.toggle("cut", !!m.interrupted);
    if (follow) ui.log.scrollTop = ui.log.scrollHeight;
  }

  function toolCard(c, m) {
    // One card per tool the agent uses, updated when it ends: its title, then what came of it.
    var key = c.n + ":tool:" + m.id;
    var card = c.entries[key];
    if (!card) {
      card = c.entries[key] = el("div", { class: "tool", role: "note" }, [el("b"), el("span")]);
      append(card);
    }
    var said = { started: "Working on it…", failed: "Didn't work: " }[m.status] || "";
    card.firstChild.textContent = m.title || "Working on it";
    card.lastChild.textContent = " " + (m.status === "started" ? said : said + (m.summary || ""));
    card.classList.toggle("failed", m.status === "failed");
  }

  function agentSpeaking(speaking, force) {
    if (!force && speaking === ui.root.classList.contains("speaking")) return;
    ui.root.classList.toggle("speaking", speaking);
    var live = call && !call.closed;
    ui.agentState.textContent = !live
      ? "Not in a call"
      : speaking
        ? "Speaking"
        : call.voice
          ? "Listening"
          : call.mode === "voice" && !call.fallback
            ? "Voice connecting…"
            : "Text chat";
  }

  function showLevel() {
    levelFrame = 0;
    var db = level > 0 ? 20 * Math.log10(level) : -100;
    var scale = Math.max(0, Math.min(1, (db + 60) / 54));
    ui.meterFill.style.transform = "scaleX(" + scale.toFixed(2) + ")";
    ui.meter.setAttribute("aria-valuenow", String(Math.round(scale * 100)));
  }

  // ---- Audio -------------------------------------------------------------------------------

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio.ctx) {
      audio.ctx = new Context({ latencyHint: "interactive" });
      if (audio.ctx.sampleRate > 48000 || audio.ctx.sampleRate < 8000) {
        audio.ctx.close();
        audio.ctx = new Context({ latencyHint: "interactive", sampleRate: 48000 });
      }
      debug.sampleRate = audio.ctx.sampleRate;
    }
    if (audio.ctx.state === "suspended") audio.ctx.resume();
    return audio.ctx;
  }

  function loadWorklets(ctx) {
    if (!worklets) {
      worklets = Promise.all([
        ctx.audioWorklet.addModule(config.assets + "capture-worklet.js"),
        ctx.audioWorklet.addModule(config.assets + "playback-worklet.js"),
      ]).then(function () {
        audio.playback = new AudioWorkletNode(ctx, "nexus-playback", {
          numberOfInputs: 0,
          outputChannelCount: [1],
        });
        audio.playback.port.onmessage = onPlayback;
        audio.playback.connect(ctx.destination);
        audio.capture = new AudioWorkletNode(ctx, "nexus-capture", {
          numberOfOutputs: 1,
          outputChannelCount: [1],
          processorOptions: { frameSamples: Math.round((ctx.sampleRate * FRAME_MS) / 1000) },
        });
        audio.capture.port.onmessage = onCapture;
        audio.capture.connect(ctx.destination); // outputs silence; keeps the node pulled
      });
      worklets.catch(function () {
        worklets = null;
      });
    }
    return worklets;
  }

  /* Microphone and worklets; resolves true when voice can go, false (with a note) when not. */
  function audioStart(ctx) {
    if (audio.stream && audio.stream.active && audio.capture) return Promise.resolve(true);
    var media = navigator.mediaDevices;
    if (!ctx || !ctx.audioWorklet || !media || !media.getUserMedia) {
      note("Voice needs a secure (https) page and a recent browser, so this is a text chat.");
      return Promise.resolve(false);
    }
    var constraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    return media
      .getUserMedia({ audio: constraints })
      .then(function (stream) {
        audio.stream = stream;
        return loadWorklets(ctx);
      })
      .then(function () {
        if (audio.source) audio.source.disconnect();
        audio.source = ctx.createMediaStreamSource(audio.stream);
        audio.source.connect(audio.capture);
        setMuted(false);
        return true;
      })
      .catch(function (error) {
        debug.micError = error && error.name;
        stopMic();
        var why =
          {
            NotAllowedError: "Microphone access is blocked",
            SecurityError: "Microphone access is blocked",
            NotFoundError: "No microphone was found",
            OverconstrainedError: "No microphone was found",
            NotReadableError: "The microphone is in use by another app",
          }[error && error.name] || "Voice could not start in this page";
        note(why + ", so this is a text chat. You can type your questions below.", "error");
        return false;
      });
  }

  function stopMic() {
    if (audio.source) audio.source.disconnect();
    audio.source = null;
    if (audio.stream) audio.stream.getTracks().forEach(function (track) {
      track.stop();
    });
    audio.stream = null;
    level = 0;
    showLevel();
  }

  function setMuted(muted) {
    if (audio.stream) audio.stream.getAudioTracks().forEach(function (track) {
      track.enabled = !muted;
    });
    ui.mute.setAttribute("aria-pressed", String(muted));
    ui.mute.setAttribute("aria-label", muted ? "Unmute microphone" : "Mute microphone");
    ui.root.classList.toggle("muted", muted);
  }

  function toggleMute() {
    setMuted(ui.mute.getAttribute("aria-pressed") !== "true");
  }

  function onCapture(event) {
    level = event.data.level;
    if (!levelFrame) levelFrame = requestAnimationFrame(showLevel);
    var c = call;
    if (!c || !c.id || c.mode !== "voice" || c.ended || c.hangup || c.ws.readyState !== 1) return;
    if (c.ws.bufferedAmount > MAX_BUFFERED) {
      debug.droppedFrames += 1;
      return;
    }
    c.ws.send(event.data.pcm);
    debug.sentFrames += 1;
    debug.sentBytes += event.data.pcm.byteLength;
  }

  function onPlayback(event) {
    var m = event.data;
    if (m.stats) {
      if (m.stats.speaking && !debug.playback.speaking) debug.agentSpoke += 1;
      debug.playback = m.stats;
    }
    if (m.type === "flushed" && flushes[m.id] !== undefined) {
      var ms = performance.now() - flushes[m.id];
      delete flushes[m.id];
      debug.lastFlushMs = ms;
      debug.flushes.push({ ms: ms, dropped: m.dropped });
    }
    agentSpeaking(!!(m.stats && m.stats.speaking) && !!call && !call.closed);
  }

  function flushPlayback(counted) {
    if (!audio.playback) return;
    var id = ++flushId;
    if (counted) flushes[id] = performance.now();
    audio.playback.port.postMessage({ type: "flush", id: id, count: counted });
  }

  // ---- The call ----------------------------------------------------------------------------

  function startCall(mode, reconnecting) {
    if (starting || (call && !call.closed)) return;
    clearTimeout(reconnectTimer);
    if (!config.key && !config.agent) {
      note("This widget has no data-key: it cannot place a call.", "error");
      return;
    }
    started = true;
    if (!reconnecting) reconnects = 0;
    if (mode !== "voice") {
      connect("text", reconnecting);
      return;
    }
    var ctx = audioContext(); // created inside the click: browsers allow sound from here
    var attempt = (starting = { cancelled: false });
    setState("connecting", "Starting the microphone…");
    audioStart(ctx).then(function (ok) {
      starting = null;
      if (attempt.cancelled) stopMic();
      else connect(ok ? "voice" : "text", reconnecting);
    });
  }

  function connect(mode, reconnecting) {
    var params = new URLSearchParams();
    if (config.key) params.set("key", config.key);
    else params.set("agent", config.agent);
    if (mode === "voice") {
      params.set("format", "pcm16");
      params.set("rate", String(audio.ctx.sampleRate));
      params.set("out", "pcm16");
      params.set("frame_ms", String(FRAME_MS));
    }
    params.set("mode", mode);
    var ws;
    try {
      ws = new WebSocket(config.socket + "?" + params.toString());
    } catch (error) {
      note("The call could not start: " + error.message, "error");
      setState("idle");
      return;
    }
    ws.binaryType = "arraybuffer";
    var c = (call = {
      ws: ws,
      n: ++debug.calls,
      mode: mode,
      voice: false,
      entries: {},
      reconnecting: !!reconnecting,
    });
    debug.mode = mode;
    debug.callId = null;
    debug.recording = null;
    debug.closeCode = null;
    flushPlayback(false);
    setState("connecting", reconnecting ? "Reconnecting…" : "Connecting…");
    ws.onopen = function () {
      c.opened = true;
      c.pinger = setInterval(function () {
        if (ws.readyState === 1) {
          c.pingAt = performance.now();
          ws.send('{"type":"ping"}');
        }
      }, 25000);
    };
    ws.onmessage = function (event) {
      if (c === call) receive(c, event.data);
    };
    ws.onclose = function (event) {
      closed(c, event);
    };
  }

  function receive(c, payload) {
    if (typeof payload !== "string") {
      debug.audioBytes += payload.byteLength;
      if (audio.playback && !c.ended && !c.hangup) {
        audio.playback.port.postMessage(payload, [payload]);
      }
      return;
    }
    var m;
    try {
      m = JSON.parse(payload);
    } catch (error) {
      return;
    }
    debug.messages[m.type] = (debug.messages[m.type] || 0) + 1;
    switch (m.type) {
      case "session":
        c.id = debug.callId = m.call_id;
        debug.recording = m.recording === true;
        // The caller is told first: nothing of the agent has been played or shown yet.
        if (debug.recording) note(RECORDING_NOTE, "recording");
        reconnects = 0;
        if (m.agent && m.agent.name) agentName = m.agent.name;
        setLabel();
        if (c.reconnecting) note("Reconnected: this is a new call.");
        setState(
          "live",
          c.mode === "voice" ? "Connected. Voice is starting…" : "Connected. Type your message."
        );
        agentSpeaking(false, true);
        pendingTexts.splice(0).forEach(function (text) {
          c.ws.send(JSON.stringify({ type: "text", text: text }));
        });
        break;
      case "ready":
        c.voice = true;
        c.fallback = false;
        setState("live", "Connected. Speak any time, or type.");
        agentSpeaking(false, true);
        break;
      case "mode":
        c.voice = false;
        c.fallback = m.mode === "text";
        if (m.mode === "text") {
          note(MODE_NOTES[m.reason] || "Voice is unavailable, you can keep typing.");
          setState("live", "Text only for now: type your message.");
        } else if (m.engine && m.reason !== "recovered") {
          note(STANDBY_NOTE);
          setState("live", "Voice is starting…");
        } else {
          note(MODE_NOTES[m.reason] || "Voice is back.");
          setState("live", "Voice is back.");
        }
        agentSpeaking(false, true);
        break;
      case "transcript":
        caption(c, m);
        break;
      case "interrupt":
        debug.interrupts += 1;
        flushPlayback(true);
        break;
      case "tool":
        toolCard(c, m);
        break;
      case "error":
        note(
          m.code === "message_too_large" ? "That message is too long." : m.message || m.code,
          "error"
        );
        break;
      case "ended":
        c.ended = true;
        c.endReason = m.reason;
        if (m.reason !== "server_shutdown") {
          note(ENDED[m.reason] || "The call ended.");
        }
        break;
      case "pong":
        if (c.pingAt) debug.rttMs = performance.now() - c.pingAt;
        break;
    }
  }

  function closed(c, event) {
    c.closed = true;
    clearInterval(c.pinger);
    clearTimeout(c.hangupTimer);
    if (c !== call) return;
    debug.closeCode = event.code;
    if (REFUSED[event.code]) {
      pendingTexts = [];
      note(REFUSED[event.code], "error");
      finish(event.code === 4429 ? "Lines busy." : "Not connected.");
    } else if (c.hangup || (c.ended && c.endReason !== "server_shutdown")) {
      finish("Call ended.");
    } else if (reconnects < MAX_RECONNECTS) {
      reconnects += 1;
      if (reconnects === 1) note("The connection dropped. Reconnecting…", "error");
      var wait = Math.min(8000, 500 * Math.pow(2, reconnects - 1));
      var mode = c.mode === "voice" && audio.stream && audio.stream.active ? "voice" : "text";
      setState("connecting", "Reconnecting…");
      reconnectTimer = setTimeout(function () {
        startCall(mode, true);
      }, wait);
    } else {
      note("We could not reconnect. Press Call to try again.", "error");
      finish("Not connected.");
    }
  }

  function finish(status) {
    stopMic();
    flushPlayback(false);
    setState("idle", status);
  }

  function hangUp() {
    var c = call;
    clearTimeout(reconnectTimer);
    if (starting) starting.cancelled = true;
    if (!c || c.closed) {
      finish("Call ended.");
      return;
    }
    c.hangup = true;
    stopMic();
    flushPlayback(false);
    if (c.ws.readyState === 1) {
      c.ws.send('{"type":"end"}');
      ui.status.textContent = "Ending the call…";
      c.hangupTimer = setTimeout(function () {
        c.ws.close(1000);
      }, 3000);
    } else {
      c.ws.close(1000);
    }
  }

  function sendText(raw) {
    var text = (raw || "").trim();
    if (!text) return;
    if (text.length > 2000) {
      note("Messages are limited to 2000 characters.", "error");
      return;
    }
    ui.input.value = "";
    var c = call;
    if (c && !c.closed && !c.ended && !c.hangup && c.id && c.ws.readyState === 1) {
      c.ws.send(JSON.stringify({ type: "text", text: text }));
      return;
    }
    pendingTexts.push(text); // sent once the (new) call's session starts
    if (!c || c.closed) startCall("text");
  }

  window.Nexus = {
    version: "1",
    debug: debug,
    open: function () {
      if (ui.panel) open(null);
    },
    close: function () {
      if (ui.panel) minimize();
    },
    call: function (mode) {
      var wanted = mode === "text" ? "text" : "voice";
      if (ui.panel && ui.panel.hidden) open(wanted); // starts the first call in `wanted`
      startCall(wanted);
    },
    hangUp: hangUp,
    send: sendText,
  };

  if (document.body) render();
  else document.addEventListener("DOMContentLoaded", render);
})();
