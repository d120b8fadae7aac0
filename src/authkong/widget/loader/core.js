// AuthKong loader engine, shared by every vendor's script API (the file after this one in
// the same function scope). mount() turns a container into a widget: an iframe served by
// AuthKong (/widget) that solves and redeems, plus the hidden form fields its token goes
// in. The iframe's workers and fetches are same-origin with AuthKong, so the host page's
// CSP needs only script-src and frame-src for it. Messages are accepted only from a
// widget's own iframe on AuthKong's origin, and sent only to that exact origin.

// The script that is running now, and what its URL asks for (onload, render, hl, ...).
const SCRIPT = document.currentScript;
const SRC = new URL(SCRIPT ? SCRIPT.src : location.href, location.href);
const QUERY = SRC.searchParams;
const ORIGIN = SRC.origin;
const widgets = [];
const mounted = new WeakSet(); // containers already turned into widgets
// The frame's release (widget_assets.frame_version), so caches never mix two releases.
const VERSION = "__FRAME_VERSION__";
let ROOT = new URL("./", SRC); // AuthKong's root; set by the vendor API (loader paths differ)
let counter = 0;

// The sizes a widget's iframe takes; invisible stays laid out (workers run) but unseen.
const SIZES = {
  normal: "width:300px;height:74px",
  compact: "width:164px;height:144px",
  flexible: "width:100%;min-width:300px;height:74px",
  invisible: "position:absolute;width:1px;height:1px;border:0;opacity:0;pointer-events:none",
};

window.addEventListener("message", (ev) => {
  if (ev.origin !== ORIGIN || !ev.data || typeof ev.data !== "object") return;
  const w = widgets.find((x) => x.frame.contentWindow === ev.source);
  if (w) w.receive(ev.data);
});

// Marks the global each loader sets with its own name. An element with id="turnstile"
// is also window.turnstile, and hCaptcha's grecaptcha alias is not reCAPTCHA's API: only
// a global marked with its name means "this loader already ran".
const OURS = Symbol.for("authkong.loader");

function loaded(name) {
  return !!window[name] && window[name][OURS] === name;
}

function root(relative) {
  ROOT = new URL(relative, SRC);
}

// A callback given as a function, or as the name of a global function (data-callback).
function named(fn) {
  if (typeof fn === "function") return fn;
  return typeof fn === "string" && typeof window[fn] === "function" ? window[fn] : null;
}

function call(fn, ...args) {
  const f = named(fn);
  if (f) f(...args);
}

function element(target) {
  if (typeof target !== "string") return target instanceof Element ? target : null;
  try {
    return document.getElementById(target) || document.querySelector(target);
  } catch (_) {
    return null; // neither an id nor a selector: the vendor's "not found" error follows
  }
}

// A data-* attribute as an option: data-expired-callback -> dataset.expiredCallback.
function data(el, name) {
  const key = name.replace(/-(\w)/g, (_, c) => c.toUpperCase());
  return el.dataset[key];
}

function nextId() {
  return counter++;
}

// o: sitekey, theme, size, tabindex, hl, action, cdata, mode (checkbox|invisible|score),
//    start (click|auto|focus|execute), focusWithin (selector of what "focus" watches;
//    default the container's form), refresh (auto|manual|never), appearance (always |
//    execute: unseen until it starts | interaction-only: unseen, as AuthKong never needs
//    the visitor's help), fields [{name, id, tag, className}], onToken(token),
//    onExpired(token), onError(code), onStart(), id.
function mount(container, o) {
  if (!o.sitekey) throw new Error("AuthKong: missing sitekey");
  const size = SIZES[o.size] ? o.size : "normal";
  const src = new URL("widget", ROOT);
  const mode = o.mode || (size === "invisible" ? "invisible" : "checkbox");
  const query = {sitekey: o.sitekey, theme: o.theme, mode, hl: o.hl || QUERY.get("hl"),
    action: o.action, cdata: o.cdata, refresh: o.refresh};
  for (const [k, v] of Object.entries(query)) if (v) src.searchParams.set(k, v);
  src.searchParams.set("v", VERSION);

  const frame = document.createElement("iframe");
  frame.src = src.href;
  frame.title = "AuthKong CAPTCHA";
  // The frame learns our origin from its referrer: send the origin even where the page
  // says no-referrer, and never the path.
  frame.referrerPolicy = "origin";
  const look = "border:0;display:block;max-width:100%;" + SIZES[size];
  const appearance = o.appearance || "always";
  frame.style.cssText = appearance === "always" ? look : SIZES.invisible;
  // Unseen frames are inert: no focus can land in them and screen readers skip them.
  frame.inert = size === "invisible" || appearance !== "always";
  if (o.tabindex !== undefined && o.tabindex !== null && o.tabindex !== "") {
    frame.tabIndex = Number(o.tabindex) || 0;
  }
  const fields = (o.fields || []).map((f) => {
    const field = document.createElement(f.tag || "input");
    if (field.tagName === "INPUT") field.type = "hidden";
    else field.style.display = "none";
    field.name = f.name;
    if (f.id) field.id = f.id;
    if (f.className) field.className = f.className;
    return field;
  });
  container.append(frame, ...fields); // inside the container, hence inside its form
  mounted.add(container);

  // `turn` numbers the widget's resets: every message to the frame carries it and the
  // frame echoes it, so a token or expiry sent before a reset() is dropped on arrival.
  let ready = false, queue = [], waiting = [], chain = Promise.resolve(), turn = 0;
  let focusForm = null, broken = null, watchdog = 0;
  const w = {
    id: o.id === undefined ? nextId() : o.id,
    container, frame, fields, sitekey: o.sitekey, token: "", expired: false, cleanups: [],
    post(msg) {
      msg.turn = turn;
      if (!ready) queue.push(msg);
      else if (frame.contentWindow) frame.contentWindow.postMessage(msg, ORIGIN);
    },
    fill(token) {
      w.token = token;
      for (const f of fields) f.value = token;
    },
    receive(msg) {
      if (msg.type === "authkong:ready") {
        clearTimeout(watchdog);
        if (ready) return restarted();
        ready = true;
        for (const m of queue.splice(0)) w.post(m);
      } else if (msg.turn !== turn) {
        // from before the last reset(): stale
      } else if (msg.type === "authkong:start") {
        if (appearance === "execute" && size !== "invisible") {
          frame.style.cssText = look;
          frame.inert = false;
        }
        if (o.onStart) o.onStart();
      } else if (msg.type === "authkong:token" && typeof msg.token === "string") {
        w.expired = false;
        w.fill(msg.token);
        for (const p of waiting.splice(0)) p.resolve(msg.token);
        if (o.onToken) o.onToken(msg.token);
      } else if (msg.type === "authkong:expired") {
        const old = w.token;
        w.fill("");
        w.expired = true;
        if (o.onExpired) o.onExpired(old);
      } else if (msg.type === "authkong:error") {
        fail(String(msg.code || "error"), msg.message);
      }
    },
    // One solve at a time: a second execute waits for the first to settle.
    execute(extra = {}) {
      const since = turn; // a reset() before this one's turn comes cancels it
      const run = () => new Promise((resolve, reject) => {
        if (since !== turn) return reject(resetError());
        if (broken) return reject(broken);
        waiting.push({resolve, reject});
        w.post({type: "authkong:execute", action: extra.action || "", cdata: extra.cdata || ""});
      });
      const result = chain.then(run, run);
      chain = result.catch(() => {});
      return result;
    },
    reset() {
      w.fill("");
      w.expired = false;
      turn++;
      for (const p of waiting.splice(0)) p.reject(resetError());
      w.post({type: "authkong:reset"});
      begin(); // back to its initial state, as the vendors' reset() does
    },
    remove() {
      const index = widgets.indexOf(w);
      if (index < 0) return; // removed already
      o.start = "removed";
      w.reset();
      clearTimeout(watchdog);
      widgets.splice(index, 1);
      mounted.delete(container);
      if (focusForm) focusForm.removeEventListener("focusin", onFocus);
      frame.remove();
      for (const f of fields) f.remove();
      for (const undo of w.cleanups.splice(0)) undo();
    },
  };
  // Every failure reaches the page: pending executes reject, the error callback runs.
  const fail = (code, message) => {
    const err = new Error(message || code);
    err.code = code;
    for (const p of waiting.splice(0)) p.reject(err);
    if (o.onError) o.onError(code);
    return err;
  };
  // A frame that says "ready" twice was reloaded (its container moved in the DOM): it
  // lost its token and timers, so the widget starts over.
  const restarted = () => {
    turn++;
    w.fill("");
    for (const p of waiting.splice(0)) p.reject(resetError());
    frame.contentWindow.postMessage({type: "authkong:reset", turn}, ORIGIN);
    begin();
  };
  // A frame that never says "ready" cannot reach this page: blocked by the page's CSP,
  // AuthKong unreachable, or a sandboxed page whose origin the frame cannot know.
  const FRAME_TIMEOUT_MS = 10000;
  frame.addEventListener("load", () => {
    if (!ready) watchdog = setTimeout(() => { if (!ready) broken = fail("frame_unreachable"); }, FRAME_TIMEOUT_MS);
  });
  const onFocus = () => {
    focusForm.removeEventListener("focusin", onFocus);
    focusForm = null;
    w.execute().catch(() => {});
  };
  // The initial state: working (auto), waiting for the form's first focus (focus), or idle.
  const begin = () => {
    const form = container.closest(o.focusWithin || "form");
    if (o.start === "auto" || o.start === "focus" && !form) w.execute().catch(() => {});
    else if (o.start === "focus" && !focusForm) {
      focusForm = form;
      form.addEventListener("focusin", onFocus);
    }
  };
  widgets.push(w);
  if (window.origin === "null") {
    // An opaque origin (sandboxed page): the frame could never post the token back.
    setTimeout(() => { broken = fail("opaque_origin"); });
    return w;
  }
  begin();
  return w;
}

function resetError() {
  const err = new Error("reset");
  err.code = "reset";
  return err;
}

// A widget by id; with no id, the first one (the vendors' default).
function find(id) {
  if (id === undefined || id === null) return widgets[0] || null;
  return widgets.find((w) => String(w.id) === String(id)) || null;
}

function isMounted(el) {
  return mounted.has(el);
}

// Runs fn once the document is parsed (at once if it already is).
function whenParsed(fn) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
  else fn();
}

// The common start: render the page's containers unless told not to, then call onload.
function boot(renderAll, autoRender) {
  whenParsed(() => {
    if (autoRender) renderAll();
    const onload = QUERY.get("onload");
    if (onload) call(onload);
  });
}

// reCAPTCHA and hCaptcha bind an invisible widget to a button carrying their class: a
// click runs the check instead of submitting, and the callback (which usually submits
// the form) gets the token. render(holder) mounts the widget and returns its id.
function bindButton(button, render) {
  const holder = document.createElement("div");
  button.after(holder); // next to the button, so the hidden field is inside its form
  mounted.add(button);
  const id = render(holder);
  const onClick = (ev) => {
    ev.preventDefault();
    const w = find(id);
    if (w) w.execute().catch(() => {});
  };
  button.addEventListener("click", onClick);
  find(id).cleanups.push(() => {
    button.removeEventListener("click", onClick);
    mounted.delete(button);
    holder.remove();
  });
  return id;
}

// The vendors' execute() may be awaited or ignored; an ignored failure is reported to
// the error callback, not as an unhandled rejection.
function quiet(promise) {
  promise.catch(() => {});
  return promise;
}

function randomId(prefix) {
  return prefix + Math.random().toString(36).slice(2, 12);
}

// An element's data-* attributes as render parameters: data-expired-callback ->
// {"expired-callback": ...}, the names the vendors' render() calls take.
function attributes(el) {
  const out = {};
  for (const a of el.attributes) if (a.name.startsWith("data-")) out[a.name.slice(5)] = a.value;
  return out;
}
