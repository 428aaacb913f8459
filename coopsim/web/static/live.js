// Live updates for the tabletop pages: follow the room's event stream and reload the panel when the room changes.
// A panel with a form being filled in is not replaced until the form loses focus, so nothing typed is lost.
"use strict";
(function () {
  const panel = document.getElementById("panel");
  const live = document.getElementById("live");
  if (!panel || !window.EventSource) { return; }
  const base = location.pathname.replace(/\/$/, "");
  let waiting = false;

  function typing() {
    const el = document.activeElement;
    if (!el || !panel.contains(el)) { return false; }
    return ["TEXTAREA", "INPUT", "SELECT"].includes(el.tagName);
  }

  async function refresh() {
    if (typing()) { waiting = true; live.textContent = "live: new updates when you leave the form"; return; }
    waiting = false;
    const r = await fetch(base + "/panel" + location.search, { cache: "no-store", credentials: "same-origin" });
    if (r.ok) { panel.innerHTML = await r.text(); live.textContent = "live"; }
  }

  panel.addEventListener("focusout", () => { if (waiting) { setTimeout(refresh, 50); } });
  const stream = new EventSource(base + "/events");
  stream.onmessage = (e) => {
    if (e.data !== panel.dataset.version) { panel.dataset.version = e.data; refresh(); }
  };
  stream.onerror = () => { live.textContent = "reconnecting…"; };
  stream.onopen = () => { live.textContent = "live"; };
})();
