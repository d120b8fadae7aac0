// Cloudflare Turnstile's script API, served as /turnstile/v0/api.js on top of the engine
// (core.js). Markup: .cf-turnstile with data-sitekey, data-action, data-cdata,
// data-callback, data-expired-callback, data-error-callback, data-execution
// (render|execute), data-appearance (always|execute|interaction-only), data-theme
// (light|dark|auto), data-language, data-size (normal|flexible|compact), data-tabindex,
// data-response-field, data-response-field-name, data-refresh-expired
// (auto|manual|never). render() takes the same names (cData for data-cdata). The token
// goes in the hidden input `cf-turnstile-response`. ?render=explicit, ?onload=fn;
// ?compat=recaptcha also renders .g-recaptcha, names the field g-recaptcha-response and
// offers `grecaptcha`.
if (!loaded("turnstile")) {
  root("../../");
  const compat = QUERY.get("compat") === "recaptcha";
  const off = (value) => value === false || value === "false";

  const render = (target, params = {}) => {
    const el = element(target);
    if (!el) throw new Error("[Cloudflare Turnstile] Unable to find a container for " + target);
    const opt = (name) => (params[name] !== undefined ? params[name] : data(el, name));
    const id = randomId("cf-chl-widget-");
    const language = opt("language");
    const name = opt("response-field-name") || (compat ? "g-recaptcha-response" : "cf-turnstile-response");
    return mount(el, {
      id, sitekey: opt("sitekey"), theme: opt("theme") || "auto", size: opt("size"),
      tabindex: opt("tabindex"), hl: language === "auto" ? "" : language,
      action: opt("action"), cdata: params.cData !== undefined ? params.cData : el.dataset.cdata,
      start: opt("execution") === "execute" ? "execute" : "auto",
      appearance: opt("appearance"), refresh: opt("refresh-expired") || "auto",
      fields: off(opt("response-field")) ? [] : [{name, id: `${id}_response`}],
      onToken: (token) => call(opt("callback"), token),
      onExpired: (token) => call(opt("expired-callback"), token),
      onError: (code) => call(opt("error-callback"), code),
    }).id;
  };

  // A widget by id or by its container (element or selector); none: the first.
  const widget = (ref) => {
    const el = ref === undefined ? null : element(ref);
    return (el && widgets.find((w) => w.container === el)) || find(ref);
  };

  // execute() runs a widget, or renders one in execute mode on a new container and runs it.
  const run = (target, params) => {
    const w = widget(target);
    if (w) return quiet(w.execute());
    const id = render(target, {...params, execution: "execute"});
    return quiet(find(id).execute());
  };

  const renderAll = () => {
    const selector = compat ? ".cf-turnstile, .g-recaptcha" : ".cf-turnstile";
    for (const el of document.querySelectorAll(selector)) if (!isMounted(el)) render(el);
  };

  window.turnstile = {
    [OURS]: "turnstile",
    render,
    execute: (target, params) => { run(target, params); },
    reset: (id) => { const w = widget(id); if (w) w.reset(); },
    remove: (id) => { const w = widget(id); if (w) w.remove(); },
    getResponse: (id) => { const w = widget(id); return w && !w.expired ? w.token : undefined; },
    isExpired: (id) => { const w = widget(id); return !!(w && w.expired); },
    ready: (fn) => whenParsed(() => setTimeout(fn)),
    implicitRender: renderAll,
  };
  if (compat && !window.grecaptcha) {
    window.grecaptcha = {
      render,
      execute: (id) => run(id),
      reset: window.turnstile.reset,
      getResponse: (id) => window.turnstile.getResponse(id) || "",
      ready: window.turnstile.ready,
    };
  }
  boot(renderAll, QUERY.get("render") !== "explicit");
}
