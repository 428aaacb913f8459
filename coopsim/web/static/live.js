// Live updates for the tabletop pages: follow the room's event stream and reload the panel when the room changes.
// A panel with a form being filled in (focused, or holding text not yet sent) is not replaced, so nothing typed is lost;
// it is brought up to date when the form is left, or sent.
"use strict";
(function () {
  const panel = document.getElementById("panel");
  const live = document.getElementById("live");
  if (!panel || !window.EventSource) { return; }
  const base = location.pathname.replace(/\/$/, "");
  let waiting = false;

  function typing() {
    const el = document.activeElement;
    if (el && panel.contains(el) && ["TEXTAREA", "INPUT", "SELECT", "BUTTON"].includes(el.tagName)) { return true; }
    // a field filled in but not yet sent, wherever the focus is now
    for (const f of panel.querySelectorAll("textarea, input:not([type=hidden])")) {
      if (f.type === "radio" || f.type === "checkbox" ? f.checked !== f.defaultChecked : f.value !== f.defaultValue) { return true; }
    }
    return false;
  }

  async function refresh() {
    if (typing()) { waiting = true; live.textContent = "live: new updates when you leave the form"; return; }
    waiting = false;
    const r = await fetch(base + "/panel" + location.search, { cache: "no-store", credentials: "same-origin" });
    if (!r.ok) { return; }
    const html = await r.text();
    if (typing()) { waiting = true; return; }  // the player started filling a form while the panel was on its way
    panel.innerHTML = html;
    live.textContent = "live";
  }

  panel.addEventListener("focusout", () => { if (waiting) { setTimeout(refresh, 50); } });
  panel.addEventListener("input", () => { if (waiting) { live.textContent = "live: new updates when you leave the form"; } });
  const stream = new EventSource(base + "/events");
  stream.onmessage = (e) => {
    if (e.data !== panel.dataset.version) { panel.dataset.version = e.data; refresh(); }
  };
  stream.onerror = () => { live.textContent = "reconnecting…"; };
  stream.onopen = () => { live.textContent = "live"; };
})();
