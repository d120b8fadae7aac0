// AuthKong's own script API, served as /api.js on top of the engine (core.js).
// <div class="authkong_captcha" data-sitekey data-theme data-size data-lang data-start
// data-callback data-expired-callback data-error-callback>; the token goes in the hidden
// field `captcha-response`. ?onload=fn (or ?render=explicit) loads without rendering.
if (!loaded("AuthKongCaptcha")) {
  root("./");

  const render = (target, options = {}) => {
    const el = element(target);
    if (!el) throw new Error("AuthKongCaptcha.render: no such element");
    const opt = (name) => (options[name] !== undefined ? options[name] : data(el, name));
    const w = mount(el, {
      sitekey: opt("sitekey"), theme: opt("theme"), size: opt("size"), hl: opt("lang"),
      action: opt("action"), tabindex: opt("tabindex"),
      start: opt("start") || (opt("size") === "invisible" ? "execute" : "click"),
      fields: [{name: "captcha-response"}],
      onToken: (token) => call(opt("callback"), token),
      onExpired: () => call(opt("expired-callback")),
      onError: (code) => call(opt("error-callback"), code),
    });
    return {
      id: w.id,
      getResponse: () => w.token,
      isExpired: () => w.expired,
      execute: (extra) => w.execute(extra),
      reset: () => w.reset(),
      remove: () => w.remove(),
    };
  };

  const renderAll = () => {
    for (const el of document.querySelectorAll(".authkong_captcha")) if (!isMounted(el)) render(el);
  };
  window.AuthKongCaptcha = {[OURS]: "AuthKongCaptcha", render, ready: (fn) => whenParsed(() => setTimeout(fn))};
  boot(renderAll, !QUERY.has("onload") && QUERY.get("render") !== "explicit");
}
