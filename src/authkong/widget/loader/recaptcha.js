// reCAPTCHA's script API (v2 checkbox and invisible, v3, Enterprise), served as
// /recaptcha/api.js and /recaptcha/enterprise.js on top of the engine (core.js).
// Markup: .g-recaptcha with data-sitekey, data-theme, data-size (normal|compact|invisible),
// data-tabindex, data-action, data-callback, data-expired-callback, data-error-callback;
// render() takes the same names without "data-". On a button it binds an invisible check
// to the click (a v3 check when the button has data-action). The token goes in the
// hidden textarea `g-recaptcha-response` (id g-recaptcha-response, then
// g-recaptcha-response-1, ... by widget id). ?render=explicit|onload|<sitekey>, ?onload=fn,
// ?hl=xx. v3: execute(sitekey, {action}) resolves to a token whose siteverify answer
// carries score and action. Enterprise: the same API as grecaptcha.enterprise.
if (!loaded("grecaptcha")) {
  root("../");
  const FIELD = "g-recaptcha-response";
  // Google numbers v3 clients from 100000, so v2 widget ids stay 0, 1, ... on pages with both.
  let nextScoreId = 100000;
  const v3 = new Map(); // sitekey -> the invisible widget its execute() calls use
  const isButton = (el) => el.tagName === "BUTTON" || el.tagName === "INPUT";

  const mountOn = (el, params, score) => {
    const opt = (name) => (params[name] !== undefined ? params[name] : data(el, name));
    const id = score ? nextScoreId++ : nextId();
    const size = score ? "invisible" : opt("size");
    const onCall = size === "invisible";
    return mount(el, {
      id, sitekey: opt("sitekey"), theme: opt("theme"), size, tabindex: opt("tabindex"),
      action: opt("action"), mode: score ? "score" : undefined,
      start: onCall ? "execute" : "click",
      // The callback of an invisible widget usually submits the form: a token refreshed
      // on expiry would submit it again unasked. The page calls execute() again instead.
      refresh: onCall ? "manual" : undefined,
      fields: [{name: FIELD, id: id ? `${FIELD}-${id}` : FIELD, tag: "textarea", className: FIELD}],
      onToken: (token) => call(opt("callback"), token),
      onExpired: () => call(opt("expired-callback")),
      onError: () => call(opt("error-callback")),
    }).id;
  };

  // A container becomes a widget; a button gets an invisible check bound to its click.
  const render = (target, params = {}) => {
    const el = element(target);
    if (!el) throw new Error("reCAPTCHA placeholder element must be an element or id");
    if (isMounted(el)) throw new Error("reCAPTCHA has already been rendered in this element");
    if (!isButton(el)) return mountOn(el, params, false);
    const merged = {...attributes(el), ...params, size: "invisible"};
    return bindButton(el, (holder) => mountOn(holder, merged, !!merged.action));
  };

  const widget = (id) => {
    const w = find(id);
    if (!w) throw new Error("Invalid reCAPTCHA client id: " + id);
    return w;
  };

  const scoreWidget = (sitekey) => {
    if (!v3.has(sitekey)) {
      const holder = document.createElement("div");
      holder.className = "grecaptcha-badge"; // what pages' CSS and scripts look for
      (document.body || document.documentElement).append(holder);
      v3.set(sitekey, mountOn(holder, {sitekey}, true));
    }
    return widget(v3.get(sitekey));
  };

  // execute(id) runs an invisible v2 widget; execute(sitekey, {action}) is v3.
  const execute = (idOrKey, options = {}) => {
    const w = typeof idOrKey === "string" && !find(idOrKey) ? scoreWidget(idOrKey) : widget(idOrKey);
    return quiet(w.execute({action: options.action}));
  };

  const renderAll = () => {
    for (const el of document.querySelectorAll(".g-recaptcha")) if (!isMounted(el)) render(el);
  };

  const api = {
    render: (target, params) => render(target, params),
    reset: (id) => widget(id).reset(),
    getResponse: (id) => (find(id) ? find(id).token : ""),
    execute,
    ready: (fn) => whenParsed(() => setTimeout(fn)),
  };
  // Google's loading guide lets a page queue ready() callbacks before the script runs.
  const queued = (window.___grecaptcha_cfg || {}).fns || [];
  window.grecaptcha = {...api, [OURS]: "grecaptcha"};
  if (SRC.pathname.endsWith("/enterprise.js")) window.grecaptcha.enterprise = api;
  const mode = QUERY.get("render") || "onload";
  boot(renderAll, mode !== "explicit");
  // ?render=<sitekey> loads the v3 client at once, so the first execute() finds it ready.
  if (mode !== "explicit" && mode !== "onload") whenParsed(() => scoreWidget(mode));
  for (const fn of queued) if (typeof fn === "function") api.ready(fn);
}
