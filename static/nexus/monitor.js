/* The tenant's calls in progress, live, for its staff (docs/monitor.md).
 *
 * Loaded on every admin page of a tenant for staff who may view calls (admin/base_site.html).
 * It listens on the staff socket (/ws/staff/): first the calls in progress, then every event of
 * the tenant's calls. When a call is handed over to a person, an alert is raised at the top of
 * the page, whatever admin page it is, with the caller's words and a link to the call, until it
 * is dismissed (dismissed on one page, on all of them: the browser remembers). On the "Live
 * calls" page (#nexus-live-calls) it also shows each call with its transcript as it grows. Times
 * are shown in the tenant's time zone (data-timezone).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var CALL_URL = script.dataset.callUrl; // the admin page of a call, with CALL_ID to replace
  var CALL_ID = "00000000-0000-0000-0000-000000000000";
  var DISMISSED_KEY = "nexus-monitor-dismissed";
  var REFUSED = 4403;
  var ROLES = { caller: "Caller", agent: "Agent", tool: "Tool", system: "System" };
  var clock = new Intl.DateTimeFormat("en-GB", {
    timeZone: script.dataset.timezone,
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });

  var calls = new Map(); // call id -> what is known of the call
  var state = "connecting"; // connecting | live | reconnecting | refused
  var retryMs = 1000;

  function call(id) {
    if (!calls.has(id)) {
      calls.set(id, {
        id: id,
        persona: "",
        mode: "",
        startedAt: null,
        entries: new Map(), // sequence -> entry: an entry sent twice is kept once
        tool: null,
        transfer: null,
        ended: null,
      });
    }
    return calls.get(id);
  }

  function apply(event) {
    var c;
    switch (event.type) {
      case "calls": // the calls in progress now: everything before is replaced
        calls.forEach(function (known, id) {
          if (!known.transfer) calls.delete(id);
          else known.ended = known.ended || "gone";
        });
        event.events.forEach(apply);
        return;
      case "call.started":
        c = call(event.call_id);
        c.persona = event.persona;
        c.mode = event.mode;
        c.startedAt = new Date(event.started_at);
        c.ended = null;
        return;
      case "call.entry":
        call(event.call_id).entries.set(event.sequence, event);
        return;
      case "call.mode":
        call(event.call_id).mode = event.mode;
        return;
      case "call.tool":
        call(event.call_id).tool = event;
        return;
      case "call.transfer":
        call(event.call_id).transfer = { reason: event.reason };
        return;
      case "call.ended":
        if (calls.has(event.call_id)) calls.get(event.call_id).ended = event.reason;
        return;
    }
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      node.append(child);
    });
    return node;
  }

  function entriesOf(c) {
    return Array.from(c.entries.values()).sort(function (a, b) {
      return a.sequence - b.sequence;
    });
  }

  function callLink(c, label) {
    return el("a", { href: CALL_URL.replace(CALL_ID, c.id) }, [label]);
  }

  function offset(ms) {
    var seconds = Math.floor(ms / 1000);
    return Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  }

  // Transfer alerts, on every admin page -------------------------------------------------------

  function dismissed() {
    try {
      return JSON.parse(localStorage.getItem(DISMISSED_KEY) || "[]");
    } catch (error) {
      return [];
    }
  }

  function dismiss(id) {
    var ids = dismissed().concat([id]).slice(-50);
    localStorage.setItem(DISMISSED_KEY, JSON.stringify(ids));
    renderAlerts();
  }

  function alertFor(c) {
    var said = entriesOf(c).filter(function (entry) {
      return entry.role === "caller";
    });
    var words = said.length
      ? el(
          "blockquote",
          { class: "nexus-caller-words" },
          said.map(function (entry) {
            return el("p", {}, ["“" + entry.text + "”"]);
          })
        )
      : el("p", {}, ["The caller has not said anything yet."]);
    var close = el("button", { type: "button", class: "button" }, ["Dismiss"]);
    close.addEventListener("click", function () {
      dismiss(c.id);
    });
    var title = (c.persona || "The agent") + " is handing a caller over to a person";
    return el("li", { class: "warning nexus-transfer", role: "alert", "data-call-id": c.id }, [
      el("strong", {}, [title]),
      el("p", {}, ["Reason: " + (c.transfer.reason || "none given")]),
      el("p", {}, ["The caller said:"]),
      words,
      el("p", {}, [
        c.ended ? "The call has ended. " : "",
        callLink(c, "Open the call"),
        " ",
        close,
      ]),
    ]);
  }

  function renderAlerts() {
    var old = document.getElementById("nexus-transfer-alerts");
    var hidden = dismissed();
    var raised = Array.from(calls.values()).filter(function (c) {
      return c.transfer && hidden.indexOf(c.id) === -1;
    });
    if (!raised.length) {
      if (old) old.remove();
      return;
    }
    var list = el(
      "ul",
      { id: "nexus-transfer-alerts", class: "messagelist" },
      raised.map(alertFor)
    );
    if (old) old.replaceWith(list);
    else (document.getElementById("content-start") || document.body).prepend(list);
  }

  // The "Live calls" page ------------------------------------------------------------------------

  function callModule(c) {
    var heading = [c.persona || "A call"];
    if (c.startedAt) heading.push("started " + clock.format(c.startedAt));
    if (c.mode) heading.push(c.mode);
    var rows = entriesOf(c).map(function (entry) {
      var text = entry.text + (entry.interrupted ? " (interrupted)" : "");
      return el("tr", { class: "nexus-" + entry.role }, [
        el("td", { class: "nexus-offset" }, [offset(entry.offset_ms)]),
        el("th", { scope: "row" }, [ROLES[entry.role] || entry.role]),
        el("td", {}, [text]),
      ]);
    });
    var body = rows.length
      ? el("table", {}, [el("tbody", {}, rows)])
      : el("p", { class: "help" }, ["Nothing said yet."]);
    var notes = [];
    if (c.tool) notes.push((c.tool.title || c.tool.name) + ": " + c.tool.status);
    if (c.transfer) notes.push("Handed over to a person");
    return el("div", { class: "module nexus-call", "data-call-id": c.id }, [
      el("h2", {}, [heading.join(" · ")]),
      body,
      el("p", { class: "nexus-call-status" }, [
        notes.join(" · ") + (notes.length ? " · " : ""),
        callLink(c, "Open the call"),
      ]),
    ]);
  }

  function renderPage() {
    var page = document.getElementById("nexus-live-calls");
    if (!page) return;
    var live = Array.from(calls.values())
      .filter(function (c) {
        return !c.ended;
      })
      .sort(function (a, b) {
        return (a.startedAt || 0) - (b.startedAt || 0);
      });
    var parts = [];
    if (state !== "live") {
      var notes = {
        connecting: "Connecting…",
        reconnecting: "Connection lost: reconnecting…",
        refused: "You may not watch this business's calls.",
      };
      parts.push(el("p", { class: "help nexus-connection" }, [notes[state]]));
    }
    if (state !== "connecting" && state !== "refused") {
      parts = parts.concat(
        live.length ? live.map(callModule) : [el("p", {}, ["No calls in progress."])]
      );
    }
    page.replaceChildren.apply(page, parts);
  }

  function render() {
    renderAlerts();
    renderPage();
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/staff/");
    socket.addEventListener("message", function (message) {
      state = "live";
      retryMs = 1000;
      apply(JSON.parse(message.data));
      calls.forEach(function (c, id) {
        if (c.ended && !c.transfer) calls.delete(id);
      });
      render();
    });
    socket.addEventListener("close", function (event) {
      if (event.code === REFUSED) {
        state = "refused";
      } else {
        state = "reconnecting";
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
      render();
    });
  }

  // An alert dismissed on one admin page is dismissed on the others open.
  window.addEventListener("storage", function (event) {
    if (event.key === DISMISSED_KEY) renderAlerts();
  });
  render();
  connect();
})();
