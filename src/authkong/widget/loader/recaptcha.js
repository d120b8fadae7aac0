// reCAPTCHA's script API (v2 checkbox and invisible, v3, Enterprise), served as
// /recaptcha/api.js and /recaptcha/enterprise.js on top of the engine (core.js).
// Markup: .g-recaptcha with data-sitekey, data-theme, data-size (normal|compact|invisible),
// data-tabindex, data-callback, data-expired-callback, data-error-callback; on a button
// it binds an invisible check to the click. The token goes in the hidden textarea
// `g-recaptcha-response` (id g-recaptcha-response, then g-recaptcha-response-1, ...).
// ?render=explicit|onload|<sitekey>, ?onload=fn, ?hl=xx. v3: execute(sitekey, {action})
// resolves to a token whose siteverify answer carries score and action; a bound button
// with data-action also gets a v3 token.
if (!window.grecaptcha || !window.grecaptcha.render) {
  root("../");
  const FIELD = "g-recaptcha-response";
  const v3 = new Map(); // sitekey -> the invisible widget its execute() calls use

  const render = (target, params = {}, score = false) => {
    const el = element(target);
    if (!el) throw new Error("reCAPTCHA placeholder element must be an element or id");
    const opt = (name) => (params[name] !== undefined ? params[name] : data(el, name));
    const id = nextId();
    const size = opt("size");
    return mount(el, {
      id, sitekey: opt("sitekey"), theme: opt("theme"), size, tabindex: opt("tabindex"),
      action: opt("action"), mode: score ? "score" : undefined,
      start: size === "invisible" ? "execute" : "click",
      fields: score ? [] : [{name: FIELD, id: id ? `${FIELD}-${id}` : FIELD, tag: "textarea", className: FIELD}],
      onToken: (token) => call(opt("callback"), token),
      onExpired: () => call(opt("expired-callback")),
      onError: () => call(opt("error-callback")),
    }).id;
  };

  const widget = (id) => {
    const w = find(id);
    if (!w) throw new Error("Invalid reCAPTCHA client id: " + id);
    return w;
  };

  // execute(id) runs an invisible v2 widget; execute(sitekey, {action}) is v3.
  const execute = (idOrKey, options = {}) => {
    if (typeof idOrKey === "string" && !find(idOrKey)) {
      if (!v3.has(idOrKey)) {
        const holder = document.createElement("div");
        document.body.append(holder);
        v3.set(idOrKey, render(holder, {sitekey: idOrKey, size: "invisible"}, true));
      }
      return quiet(widget(v3.get(idOrKey)).execute({action: options.action}));
    }
    return quiet(widget(idOrKey).execute());
  };

  const renderAll = () => {
    for (const el of document.querySelectorAll(".g-recaptcha")) {
      if (isMounted(el)) continue;
      if (el.tagName === "DIV") render(el);
      else bindButton(el, (holder) => render(holder, {...attributes(el), size: "invisible"}, !!el.dataset.action));
    }
  };

  const api = {
    render: (target, params) => render(target, params),
    reset: (id) => widget(id).reset(),
    getResponse: (id) => (find(id) ? find(id).token : ""),
    execute,
    ready: (fn) => whenParsed(() => setTimeout(fn)),
  };
  window.grecaptcha = {...api};
  if (SRC.pathname.endsWith("/enterprise.js")) window.grecaptcha.enterprise = api;
  const mode = QUERY.get("render") || "onload";
  boot(renderAll, mode !== "explicit");
}
