// AuthKong widget frame (/widget, inside the loader's iframe): the checkbox, the solve
// and the redeem. No inline script, so the page's strict CSP holds. It talks to AuthKong
// with same-origin fetch and to the host page only by postMessage to the parent's exact
// origin, which comes from the browser (referrer, ancestorOrigins), never from the URL.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const box = $("box"), check = $("check"), status = $("status"), bar = $("bar"), retry = $("retry");
  const params = new URLSearchParams(location.search);
  const sitekey = params.get("sitekey") || "";
  const theme = params.get("theme");
  document.documentElement.className = theme === "dark" || theme === "auto" ? theme : "light";

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

  function tell(message) {
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
    retry.hidden = next !== "error";
  }

  async function post(path, body, signal) {
    const res = await fetch(path, {
      method: "POST",
      headers: {"content-type": "application/json"},
      body: JSON.stringify(body),
      credentials: "omit",
      signal,
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.message || "HTTP " + res.status);
    return data;
  }

  async function start() {
    if (state === "working" || state === "done") return;
    if (!parentOrigin) return show("error", "Cannot tell which page shows this check.");
    const ctl = new AbortController();
    job = ctl;
    bar.value = 0;
    show("working", "Verifying…");
    try {
      const hostname = new URL(parentOrigin).hostname;
      const ch = await post("api/v1/challenge", {sitekey, hostname, mode: "checkbox"}, ctl.signal);
      const nonces = await AuthKongSolver.solve(ch, {
        workerUrl: "widget/worker.js",
        signal: ctl.signal,
        onProgress: ({hashes, expected}) => { bar.value = Math.min(0.99, hashes / expected); },
      });
      const {token, expires_in} = await post("api/v1/redeem", {challenge: ch.challenge, nonces}, ctl.signal);
      if (job !== ctl) return;
      show("done", "Verified");
      tell({type: "authkong:token", token, expiresIn: expires_in});
    } catch (err) {
      if (job !== ctl) return; // reset while working: the reset state stands
      show("error", err.message || "Verification failed");
      tell({type: "authkong:error", message: String(err.message || err)});
    }
  }

  check.addEventListener("click", start);
  retry.addEventListener("click", () => { check.focus(); start(); }); // retry is hidden next
  window.addEventListener("message", (ev) => {
    if (ev.source !== window.parent || ev.origin !== parentOrigin || !parentOrigin) return;
    if (ev.data && ev.data.type === "authkong:reset") {
      if (job) job.abort();
      job = null;
      show("ready", "");
    }
  });
})();
