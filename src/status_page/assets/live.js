// collabd status page: keeps the page current without a reload. Every two
// seconds (while the tab is visible) it asks /live whether anything
// changed; if so it fetches this same address — filter, search, sort and
// page included — and swaps in the parts of the page marked data-live.
// Forms outside that part (the filter, an action's note) keep what the
// operator is typing. Also: buttons marked data-confirm ask first.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var b = e.submitter;
    var q = b && b.getAttribute("data-confirm");
    if (q && !window.confirm(q)) { e.preventDefault(); }
  });
  var body = document.body;
  var version = body.getAttribute("data-version");
  var parts = document.querySelectorAll("[data-live]");
  var status = document.getElementById("live-status");
  if (!version || !parts.length || !window.fetch) { return; }
  var busy = false;
  var paused = false;
  function say(text) { if (status) { status.textContent = text; } }
  function tick() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch("/live", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (now) {
        now = now.trim();
        if (paused) { paused = false; say("Live: updates appear by themselves"); }
        if (now === version) { return null; }
        return fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.text(); })
          .then(function (html) {
            var doc = new DOMParser().parseFromString(html, "text/html");
            parts.forEach(function (part) {
              var fresh = doc.getElementById(part.id);
              if (fresh) { part.innerHTML = fresh.innerHTML; }
            });
            version = doc.body.getAttribute("data-version") || now;
            body.setAttribute("data-version", version);
            say("Updated " + new Date().toLocaleTimeString());
          });
      })
      .catch(function () { paused = true; say("Live updates paused: collabd did not answer"); })
      .then(function () { busy = false; });
  }
  say("Live: updates appear by themselves");
  window.setInterval(tick, 2000);
})();
