// AuthKong loader, served as /api.js. Host pages include it with a <script> tag; it turns
// each <div class="authkong_captcha" data-sitekey=...> into an iframe served by AuthKong
// (/widget), so the widget's workers and API calls are same-origin with AuthKong and the
// host page's CSP needs only script-src and frame-src for it. The token comes back by
// postMessage and goes into a hidden `captcha-response` field inside the container.
(() => {
  "use strict";
  if (window.AuthKongCaptcha) return; // included twice: the first copy already listens
  // AuthKong's origin is where this script came from; paths resolve next to it, so a
  // server mounted below a path prefix works too.
  const self = document.currentScript;
  const base = new URL(self ? self.src : "api.js", location.href);
  const ORIGIN = base.origin;
  const widgets = [];
  const rendered = new WeakSet();

  // Only the widget's own frame, from AuthKong's origin, may talk to us; anything else
  // on the page could post a fake token.
  window.addEventListener("message", (ev) => {
    if (ev.origin !== ORIGIN || !ev.data || typeof ev.data !== "object") return;
    const w = widgets.find((x) => x.frame.contentWindow === ev.source);
    if (w) w.receive(ev.data);
  });

  function named(fn) {
    return typeof fn === "function" ? fn : typeof window[fn] === "function" ? window[fn] : null;
  }

  function render(element, options = {}) {
    if (typeof element === "string") element = document.getElementById(element);
    if (!element) throw new Error("AuthKongCaptcha.render: no such element");
    const data = element.dataset;
    const sitekey = options.sitekey || data.sitekey;
    if (!sitekey) throw new Error("AuthKongCaptcha.render: missing sitekey");
    const src = new URL("widget", base);
    src.searchParams.set("sitekey", sitekey);
    src.searchParams.set("host", location.hostname);
    src.searchParams.set("theme", options.theme || data.theme || "light");

    const frame = document.createElement("iframe");
    frame.src = src.href;
    frame.title = "AuthKong CAPTCHA";
    // The frame learns our origin from its referrer: send the origin even where the page
    // says no-referrer, and never the path.
    frame.referrerPolicy = "origin";
    frame.style.cssText = "width:300px;height:74px;border:0;display:block";
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "captcha-response";
    element.append(frame, input); // inside the container, hence inside its form
    rendered.add(element);

    let token = "";
    const callback = () => named(options.callback || data.callback);
    const widget = {
      frame,
      receive(msg) {
        if (msg.type === "authkong:token" && typeof msg.token === "string") {
          token = input.value = msg.token;
          const cb = callback();
          if (cb) cb(token);
        }
      },
    };
    widgets.push(widget);
    return {
      getResponse: () => token,
      reset() {
        token = input.value = "";
        // The exact origin: a frame navigated elsewhere never receives it.
        if (frame.contentWindow) frame.contentWindow.postMessage({type: "authkong:reset"}, ORIGIN);
      },
    };
  }

  function autoRender() {
    for (const el of document.querySelectorAll(".authkong_captcha")) {
      if (!rendered.has(el)) render(el);
    }
  }

  window.AuthKongCaptcha = {render};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoRender);
  else autoRender();
})();
