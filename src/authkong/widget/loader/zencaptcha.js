// zencaptcha's script API, served as /captcha/widget.js on top of the engine (core.js).
// Markup: .zenc-captcha with data-sitekey, data-start (auto: at once | focus: when the
// form, or an element with class zenc-form, first gets focus | none: on click or
// start()), data-callback, data-lang, data-theme. The solution goes in the hidden input
// `zenc-captcha-solution`. Globals: `zencap` (the last widget rendered from markup) and
// `zenCaptchaWidget` {WidgetInstance, autoWidget}; document gets a `zencaptchaLoaded`
// event once the page's widgets exist. `new WidgetInstance(el, options)` takes the
// vendor's option names: sitekey, startMode, language, doneCallback, startedCallback,
// errorCallback (called with {code, description}, as zencaptcha does).
if (!loaded("zenCaptchaWidget")) {
  root("../");
  const STARTS = {auto: "auto", focus: "focus", none: "click"};

  class WidgetInstance {
    constructor(target, options = {}) {
      const el = element(target);
      if (!el) throw new Error("zencaptcha: no such element");
      const opt = (name, option) => (options[option] !== undefined ? options[option] : data(el, name));
      this.w = mount(el, {
        sitekey: opt("sitekey", "sitekey"), hl: opt("lang", "language"), theme: opt("theme", "theme"),
        start: STARTS[opt("start", "startMode")] || "focus", focusWithin: "form, .zenc-form",
        fields: [{name: "zenc-captcha-solution", className: "zenc-captcha-solution"}],
        onToken: (solution) => call(opt("callback", "doneCallback"), solution),
        onStart: () => call(options.startedCallback),
        onError: (code) => call(options.errorCallback, {code, description: code}),
      });
    }

    start() { quiet(this.w.execute()); }
    reset() { this.w.reset(); }
    destroy() { this.w.remove(); }
    expire() {
      this.w.fill("");
      this.w.expired = true;
    }
    getResponse() { return this.w.token || "none"; }
  }

  window.zenCaptchaWidget = {[OURS]: "zenCaptchaWidget", WidgetInstance, autoWidget: null};
  const renderAll = () => {
    for (const el of document.querySelectorAll(".zenc-captcha")) {
      if (isMounted(el)) continue;
      window.zencap = window.zenCaptchaWidget.autoWidget = new WidgetInstance(el);
    }
    document.dispatchEvent(new Event("zencaptchaLoaded"));
  };
  boot(renderAll, QUERY.get("render") !== "explicit");
}
