// AuthKong widget frame (/widget, inside the loader's iframe): the checkbox, the solve,
// the redeem and the token's expiry. No inline script, so the page's strict CSP holds.
// It talks to AuthKong with same-origin fetch and to the host page only by postMessage
// to the parent's exact origin, which comes from the browser (ancestorOrigins, referrer),
// never from the URL.
//
// URL parameters (set by the loader): sitekey; theme light|dark|auto; mode
// checkbox|invisible|score (what the token says to siteverify); action, cdata; refresh
// auto|manual|never (what happens when the token expires).
// Messages in:  authkong:execute {action?, cdata?} starts a solve; authkong:reset.
// Messages out: authkong:ready, authkong:start, authkong:token {token, expiresIn},
//               authkong:expired, authkong:error {code, message}.
// Every message carries `turn`: the loader's count of resets, which the frame echoes.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const box = $("box"), check = $("check"), status = $("status"), bar = $("bar"), retry = $("retry");
  const texts = JSON.parse($("texts").textContent);
  const params = new URLSearchParams(location.search);
  const setting = (name, allowed) => (allowed.includes(params.get(name)) ? params.get(name) : allowed[0]);
  const sitekey = params.get("sitekey") || "";
  const mode = setting("mode", ["checkbox", "invisible", "score"]);
  const refresh = setting("refresh", ["auto", "manual", "never"]);
  document.documentElement.classList.add(setting("theme", ["light", "dark", "auto"]));
  // Expire a little early: a token submitted in its last seconds would fail at siteverify.
  const EXPIRY_MARGIN_S = 5;

  // The embedding page's origin. ancestorOrigins (Chromium, WebKit) cannot be forged by
  // the page; the referrer is what other browsers give. When both exist they must agree.
  const parentOrigin = (() => {
    if (window.parent === window) return "";
    const ancestors = location.ancestorOrigins;
    const fromAncestors = ancestors && ancestors.length ? ancestors[0] : "";
    let fromReferrer = "";
    try {
      fromReferrer = document.referrer ? new URL(document.referrer).origin : "";
    } catch (_) { /* not a URL: no origin */ }
    if (fromAncestors && fromReferrer && fromAncestors !== fromReferrer) return "";
    const origin = fromAncestors || fromReferrer;
    return origin === "null" ? "" : origin;
  })();

  let state = "ready";
  let job = null; // the AbortController of the solve in flight
  let expiry = 0; // the timer that expires the current token
  const given = {action: params.get("action") || "", cdata: params.get("cdata") || ""};
  let wanted = given;
  let turn = 0; // the loader's reset count, echoed so it can drop what predates a reset

  function tell(message) {
    message.turn = turn;
    if (parentOrigin) window.parent.postMessage(message, parentOrigin);
  }

  // Only the status line is a live region, and it changes once per state, so a screen
  // reader hears each state change but not every progress tick.
  function show(next, text) {
    state = next;
    box.dataset.state = next;
    check.setAttribute("aria-checked", next === "done" ? "true" : "false");
    // aria-disabled instead of disabled: a disabled button would drop keyboard focus.
    check.setAttribute("aria-disabled", next === "working" || next === "done" ? "true" : "false");
    status.textContent = text;
    bar.hidden = next !== "working";
    // Hiding the focused Retry would drop focus to <body>: keyboard users keep their place.
    if (next !== "error" && document.activeElement === retry) check.focus();
    retry.hidden = next !== "error";
  }

  class Failure extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  async function post(path, body, signal) {
    let res;
    try {
      res = await fetch(path, {
        method: "POST",
        headers: {"content-type": "application/json"},
        body: JSON.stringify(body),
        credentials: "omit",
        signal,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new Failure("network", err.message);
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Failure(data.error_code || "http_" + res.status, data.message || "");
    return data;
  }

  // What a visitor reads for a failure: a few kinds, in their language.
  function explain(code) {
    if (code === "network") return texts.error_network;
    if (/sitekey|hostname/.test(code)) return texts.error_config;
    if (code === "rate_limited") return texts.error_rate;
    return texts.error;
  }

  function stop() {
    if (job) job.abort();
    job = null;
    clearTimeout(expiry);
  }

  // Signs that a program drives this browser. They go with the solution and count only
  // towards this one token's score (docs/risk.md); none of them identifies the visitor.
  function automationHints() {
    const ua = navigator.userAgent, platform = navigator.platform || "", hints = [];
    if (navigator.webdriver) hints.push("webdriver");
    if (/Headless/.test(ua)) hints.push("headless_ua");
    if (!navigator.languages || !navigator.languages.length) hints.push("no_languages");
    const claimsWindows = /Windows/.test(ua) && !/^Win/.test(platform);
    const claimsMac = /Mac OS X/.test(ua) && !/^(Mac|iP)/.test(platform);
    if (claimsWindows || claimsMac) hints.push("inconsistent_platform");
    return hints.join(",");
  }

  async function start() {
    if (state === "working") return;
    stop();
    if (!parentOrigin) return fail("no_parent_origin", "");
    const ctl = new AbortController();
    job = ctl;
    bar.value = 0;
    show("working", texts.working);
    tell({type: "authkong:start"});
    try {
      const hostname = new URL(parentOrigin).hostname;
      const ch = await post("api/v1/challenge", {sitekey, hostname, mode, ...wanted}, ctl.signal);
      const nonces = await AuthKongSolver.solve(ch, {
        workerUrl: "widget/worker.js?v=" + encodeURIComponent(params.get("v") || ""),
        signal: ctl.signal,
        onProgress: ({hashes, expected}) => { bar.value = Math.min(0.99, hashes / expected); },
      });
      const {token, expires_in} = await post("api/v1/redeem",
        {challenge: ch.challenge, nonces, hints: automationHints()}, ctl.signal);
      if (job !== ctl) return;
      job = null;
      show("done", texts.done);
      tell({type: "authkong:token", token, expiresIn: expires_in});
      expiry = setTimeout(expire, Math.max(1, expires_in - EXPIRY_MARGIN_S) * 1000);
    } catch (err) {
      if (job !== ctl) return; // reset while working: the reset state stands
      job = null;
      fail(err.code || "solver", err.message || String(err));
    }
  }

  function fail(code, message) {
    show("error", explain(code));
    tell({type: "authkong:error", code, message});
  }

  function expire() {
    show("expired", texts.expired);
    tell({type: "authkong:expired"});
    if (refresh === "auto") start();
  }

  // The whole row is the click target (mark, label and status), as with a <label>.
  $("row").addEventListener("click", () => {
    if (state === "ready" || state === "expired" && refresh === "manual") start();
  });
  retry.addEventListener("click", start);
  window.addEventListener("message", (ev) => {
    if (!parentOrigin || ev.source !== window.parent || ev.origin !== parentOrigin) return;
    const msg = ev.data || {};
    if (typeof msg.turn === "number") turn = msg.turn;
    if (msg.type === "authkong:reset") {
      stop();
      show("ready", "");
    } else if (msg.type === "authkong:execute") {
      // Each execute names its own action; without one, the widget's own (render) applies.
      wanted = {action: msg.action || given.action, cdata: msg.cdata || given.cdata};
      stop();
      state = "ready";
      start();
    }
  });
  tell({type: "authkong:ready"});
})();
