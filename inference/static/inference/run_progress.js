/* Live run progress: polls the run's progress API every 2 s while the run is live and
   refreshes the numbers the server rendered. No framework. Without JavaScript the page
   keeps the server's numbers (reload to update).

   Markup: an element with data-run-progress, data-progress-url and data-status; inside it
   elements with data-field="<name>" (done, total, ok, ..., docs_per_s, eta_s, percent,
   status, reason: why a run is paused or stalled, hidden while empty) and optionally a <progress data-field="bar">. data-reload-on-end reloads the page
   once the run stops (so the candidate table and buttons follow). Formats as inference/pages.py. */
(function () {
  "use strict";

  var LIVE = ["queued", "running", "stalled"];
  var INTERVAL_MS = 2000;
  var RETRY_MS = 10000;

  function rate(v) { return v === null || v === undefined ? "\u2014" : v.toFixed(2); }

  function duration(s) {
    if (s === null || s === undefined) { return "\u2014"; }
    s = Math.round(s);
    if (s < 60) { return s + " s"; }
    var m = Math.floor(s / 60);
    if (m < 60) { return m + " min " + (s % 60) + " s"; }
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  function percent(done, total) { return (total ? (done / total) * 100 : 0).toFixed(1); }

  function texts(p) {
    return {
      status: p.status,
      total: String(p.total),
      done: String(p.done),
      pending: String(p.pending),
      ok: String(p.ok),
      parse_error: String(p.parse_error),
      too_long: String(p.too_long),
      failed: String(p.failed),
      prompt_tokens: String(p.prompt_tokens),
      generated_tokens: String(p.generated_tokens),
      docs_per_s: rate(p.docs_per_s),
      tokens_per_s: rate(p.tokens_per_s),
      eta_s: duration(p.eta_s),
      elapsed_s: duration(p.elapsed_s),
      percent: percent(p.done, p.total)
    };
  }

  function render(root, p) {
    var values = texts(p);
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.getAttribute("data-field");
      if (name === "bar") {
        el.max = Math.max(p.total, 1);
        el.value = p.done;
        el.textContent = values.percent + "%";
      } else if (name === "reason") {
        el.textContent = p.reason || "";
        el.hidden = !p.reason;
      } else if (Object.prototype.hasOwnProperty.call(values, name)) {
        el.textContent = values[name];
        if (name === "status") { el.className = "badge status-" + p.status; }
      }
    });
    root.setAttribute("data-status", p.status);
  }

  function note(root, text) {
    var el = root.querySelector("[data-progress-note]");
    if (el) { el.textContent = text; }
  }

  function watch(root) {
    var url = root.getAttribute("data-progress-url");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401 || response.status === 403 || response.status === 404) {
            note(root, "Live updates stopped: you are no longer allowed to see this run (logged out?). Reload the page.");
            return null;
          }
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (p) {
          if (p === null) { return; }
          render(root, p);
          note(root, "");
          if (LIVE.indexOf(p.status) >= 0) {
            window.setTimeout(poll, INTERVAL_MS);
          } else if (root.hasAttribute("data-reload-on-end")) {
            window.location.reload();
          }
        })
        .catch(function () {
          note(root, "Could not update the progress; trying again in a few seconds.");
          window.setTimeout(poll, RETRY_MS);
        });
    }
    window.setTimeout(poll, INTERVAL_MS);
  }

  document.querySelectorAll("[data-run-progress]").forEach(function (root) {
    if (LIVE.indexOf(root.getAttribute("data-status")) >= 0) { watch(root); }
  });
})();
