// hCaptcha's script API, served as /1/api.js on top of the engine (core.js).
// Markup: .h-captcha with data-sitekey, data-theme, data-size (normal|compact|invisible),
// data-tabindex, data-callback, data-expired-callback, data-error-callback (and the
// challenge callbacks, which never fire: AuthKong shows no challenge); on a button it
// binds an invisible check to the click. The token goes in the hidden textareas
// `h-captcha-response` and, unless ?recaptchacompat=off, `g-recaptcha-response`; with
// compat on, `grecaptcha` is hCaptcha's API too. ?render=explicit, ?onload=fn, ?hl=xx.
if (!window.hcaptcha) {
  root("../");
  const compat = QUERY.get("recaptchacompat") !== "off";
  const extra = new Map(); // widget id -> setData's object (accepted, not used)

  const render = (target, params = {}) => {
    const el = element(target);
    if (!el) throw new Error("[hCaptcha] render: container not found");
    const opt = (name) => (params[name] !== undefined ? params[name] : data(el, name));
    const id = randomId("");
    const names = compat ? ["h-captcha-response", "g-recaptcha-response"] : ["h-captcha-response"];
    const size = opt("size");
    return mount(el, {
      id, sitekey: opt("sitekey"), theme: opt("theme"), size, tabindex: opt("tabindex"),
      hl: opt("hl"), start: size === "invisible" ? "execute" : "click",
      fields: names.map((name) => ({name, id: `${name}-${id}`, tag: "textarea"})),
      onToken: (token) => call(opt("callback"), token),
      onExpired: () => call(opt("expired-callback")),
      onError: (code) => call(opt("error-callback"), code),
    }).id;
  };

  const widget = (id) => {
    const w = find(id);
    if (!w) throw new Error("[hCaptcha] invalid widget id: " + id);
    return w;
  };

  // execute(id, {async: true}) resolves to {response, key}; without async it only runs.
  const execute = (id, options = {}) => {
    const run = quiet(widget(id).execute());
    if (options.async) return run.then((response) => ({response, key: ""}));
    return undefined;
  };

  const renderAll = () => {
    for (const el of document.querySelectorAll(".h-captcha")) {
      if (isMounted(el)) continue;
      if (el.tagName === "DIV") render(el);
      else bindButton(el, (holder) => render(holder, {...attributes(el), size: "invisible"}));
    }
  };

  window.hcaptcha = {
    render,
    execute,
    reset: (id) => widget(id).reset(),
    remove: (id) => {
      extra.delete(widget(id).id);
      widget(id).remove();
    },
    getResponse: (id) => (find(id) ? find(id).token : ""),
    getRespKey: () => "",
    setData: (id, value) => extra.set(widget(id).id, value),
    close: () => {},
  };
  if (compat && !window.grecaptcha) window.grecaptcha = window.hcaptcha;
  boot(renderAll, QUERY.get("render") !== "explicit");
}
