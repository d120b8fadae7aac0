// hCaptcha's script API, served as /1/api.js on top of the engine (core.js).
// Markup: .h-captcha with data-sitekey, data-theme, data-size (normal|compact|invisible),
// data-tabindex, data-hl, data-callback, data-expired-callback, data-error-callback (and the
// challenge callbacks, which never fire: AuthKong shows no challenge); on a button it
// binds an invisible check to the click. The token goes in the hidden textareas
// `h-captcha-response` and, unless ?recaptchacompat=off, `g-recaptcha-response`; with
// compat on, `grecaptcha` is hCaptcha's API too. ?render=explicit, ?onload=fn, ?hl=xx.
if (!loaded("hcaptcha")) {
  root("../");
  const compat = QUERY.get("recaptchacompat") !== "off";
  const extra = new Map(); // widget id -> setData's object (accepted, not used)

  const isButton = (el) => el.tagName === "BUTTON" || el.tagName === "INPUT";
  // AuthKong's error codes as the ones hCaptcha documents, which pages compare against.
  const ERRORS = {network: "network-error", rate_limited: "rate-limited", reset: "challenge-closed"};
  const vendorError = (code) => ERRORS[code] || "challenge-error";

  const mountOn = (el, params) => {
    const opt = (name) => (params[name] !== undefined ? params[name] : data(el, name));
    const id = randomId("");
    const names = compat ? ["h-captcha-response", "g-recaptcha-response"] : ["h-captcha-response"];
    const size = opt("size");
    const onCall = size === "invisible";
    const w = mount(el, {
      id, sitekey: opt("sitekey"), theme: opt("theme"), size, tabindex: opt("tabindex"),
      hl: opt("hl"), start: onCall ? "execute" : "click",
      // The callback of an invisible widget usually submits the form: a token refreshed
      // on expiry would submit it again unasked. The page calls execute() again instead.
      refresh: onCall ? "manual" : undefined,
      fields: names.map((name) => ({name, id: `${name}-${id}`, tag: "textarea"})),
      onToken: (token) => call(opt("callback"), token),
      onExpired: () => call(opt("expired-callback")),
      onError: (code) => call(opt("error-callback"), vendorError(code)),
    });
    w.frame.dataset.hcaptchaWidgetId = id; // where hCaptcha's own iframes carry it
    return id;
  };

  // A container (any element but a button) becomes a widget; a button gets an invisible
  // check bound to its click.
  const render = (target, params = {}) => {
    const el = element(target);
    if (!el) throw new Error("[hCaptcha] render: container not found");
    if (!isButton(el)) return mountOn(el, params);
    return bindButton(el, (holder) => mountOn(holder, {...attributes(el), ...params, size: "invisible"}));
  };

  const widget = (id) => {
    const w = find(id);
    if (!w) throw new Error("[hCaptcha] invalid widget id: " + id);
    return w;
  };

  // execute(id, {async: true}) resolves to {response, key} and rejects with an error
  // code (a string); without async it only runs and errors go to error-callback.
  const execute = (id, options = {}) => {
    if (id !== null && typeof id === "object") { // execute({async: true}): the first widget
      options = id;
      id = undefined;
    }
    const run = widget(id).execute().then((response) => ({response, key: ""}), (err) => Promise.reject(vendorError(err.code)));
    if (options.async) return run;
    run.catch(() => {});
    return undefined;
  };

  const renderAll = () => {
    for (const el of document.querySelectorAll(".h-captcha")) if (!isMounted(el)) render(el);
  };

  window.hcaptcha = {
    [OURS]: "hcaptcha",
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
