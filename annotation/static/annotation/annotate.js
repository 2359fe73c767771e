/* The annotation form: evidence spans, autosave, keyboard shortcuts. No framework.

   Without JavaScript the form still works: it posts values, judgements and the spans kept
   in hidden inputs (save / submit / skip). With it:
   - the report is rebuilt from the exact text (a JSON script element, so offsets are
     counted on the stored text, not on what the HTML parser made of it) and evidence
     spans are drawn as <mark>s, one colour per field;
   - selecting report text attaches [start, end) character offsets to the current field;
   - changes are saved after a pause with PUT to the annotation API, naming the version
     the page holds; a 409 stops autosave and shows a "changed elsewhere" banner;
   - active time (page visible, input in the last minute) is sent with each save;
   - keys: J/K, Alt+N/Alt+P, Enter, Esc, 1-6, E, Ctrl+S, Ctrl+Enter, ?. */
(function () {
  "use strict";

  var form = document.querySelector("[data-annotate-form]");
  if (!form) { return; }
  var config = JSON.parse(document.getElementById("annotate-config").textContent);
  var text = JSON.parse(document.getElementById("report-text").textContent);
  var report = form.querySelector("[data-report]");
  var cards = Array.prototype.slice.call(form.querySelectorAll(".field-card"));
  var versionInput = form.querySelector("[data-version]");
  var timeInput = form.querySelector("[data-time-spent]");
  var stateEl = document.querySelector("[data-save-state]");
  var banner = document.querySelector("[data-conflict-banner]");
  var help = document.querySelector("[data-help]");
  var helpOpen = document.querySelector("[data-help-open]");
  var csrf = (form.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  var SAVE_DELAY_MS = 1200;
  var RETRY_MS = 10000;
  var IDLE_MS = 60000;

  var byKey = {};
  var spans = {};
  cards.forEach(function (card) {
    var key = card.getAttribute("data-field");
    byKey[key] = card;
    try { spans[key] = JSON.parse(card.querySelector("[data-spans]").value || "[]"); } catch (e) { spans[key] = []; }
  });
  var current = null;

  function state(message) { if (stateEl) { stateEl.textContent = message; } }

  /* ---- evidence highlights ------------------------------------------------------- */

  function renderReport() {
    var points = [0, text.length];
    var all = [];
    config.keys.forEach(function (key) {
      (spans[key] || []).forEach(function (span) {
        all.push({ key: key, s: span[0], e: span[1] });
        points.push(span[0], span[1]);
      });
    });
    points = points.filter(function (p, i, arr) { return arr.indexOf(p) === i; }).sort(function (a, b) { return a - b; });
    var frag = document.createDocumentFragment();
    for (var j = 0; j < points.length - 1; j++) {
      var a = points[j], b = points[j + 1];
      var piece = text.slice(a, b);
      var keys = [];
      all.forEach(function (x) { if (x.s <= a && x.e >= b && keys.indexOf(x.key) < 0) { keys.push(x.key); } });
      if (!keys.length) { frag.appendChild(document.createTextNode(piece)); continue; }
      var mark = document.createElement("mark");
      mark.className = "ev" + (keys.length > 1 ? " ev-multi" : "");
      mark.setAttribute("data-keys", keys.join(" "));
      mark.setAttribute("data-start", String(a));
      mark.style.backgroundColor = config.colors[keys[0]];
      if (keys.length > 1) { mark.style.borderBottomColor = config.colors[keys[1]]; }
      mark.title = "Evidence for " + keys.map(function (k) { return config.labels[k]; }).join(", ");
      mark.textContent = piece;
      frag.appendChild(mark);
    }
    while (report.firstChild) { report.removeChild(report.firstChild); }
    report.appendChild(frag);
  }

  function excerpt(span) {
    var s = text.slice(span[0], span[1]).replace(/\s+/g, " ");
    return s.length > 60 ? s.slice(0, 57) + "\u2026" : s;
  }

  function renderEvidence(key) {
    var card = byKey[key];
    var box = card.querySelector("[data-evidence]");
    while (box.firstChild) { box.removeChild(box.firstChild); }
    card.querySelector("[data-spans]").value = JSON.stringify(spans[key]);
    spans[key].forEach(function (span, i) {
      var chip = document.createElement("span");
      chip.className = "chip";
      var show = document.createElement("button");
      show.type = "button";
      show.className = "chip-show";
      show.textContent = "\u201c" + excerpt(span) + "\u201d";
      show.title = "Show in the report (characters " + span[0] + "\u2013" + span[1] + ")";
      show.addEventListener("click", function () { showEvidence(key, span); });
      chip.appendChild(show);
      if (config.editable) {
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "chip-remove";
        remove.textContent = "\u00d7";
        remove.setAttribute("aria-label", "Remove evidence \u201c" + excerpt(span) + "\u201d from " + config.labels[key]);
        remove.addEventListener("click", function () {
          spans[key].splice(i, 1);
          renderEvidence(key);
          renderReport();
          changed();
        });
        chip.appendChild(remove);
      }
      box.appendChild(chip);
    });
  }

  function marksOf(key, span) {
    var marks = Array.prototype.slice.call(report.querySelectorAll("mark.ev"));
    return marks.filter(function (m) {
      if ((" " + m.getAttribute("data-keys") + " ").indexOf(" " + key + " ") < 0) { return false; }
      if (!span) { return true; }
      var start = +m.getAttribute("data-start");
      return start >= span[0] && start < span[1];
    });
  }

  function showEvidence(key, span, quiet) {
    var marks = marksOf(key, span);
    if (!marks.length) { return; }
    marks[0].scrollIntoView({ block: quiet ? "nearest" : "center", behavior: quiet ? "auto" : "smooth" });
    marks.forEach(function (m) {
      m.classList.remove("flash");
      void m.offsetWidth; // restart the animation
      m.classList.add("flash");
    });
  }

  function offsetIn(node, offset) {
    var range = document.createRange();
    range.selectNodeContents(report);
    range.setEnd(node, offset);
    return range.toString().length;
  }

  function selectedSpan() {
    var sel = window.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) { return null; }
    var r = sel.getRangeAt(0);
    if (!report.contains(r.startContainer) || !report.contains(r.endContainer)) { return null; }
    var s = offsetIn(r.startContainer, r.startOffset);
    var e = offsetIn(r.endContainer, r.endOffset);
    while (s < e && /\s/.test(text.charAt(s))) { s++; }
    while (e > s && /\s/.test(text.charAt(e - 1))) { e--; }
    return e > s ? [s, e] : null;
  }

  function attachSelection() {
    if (!config.editable) { return; }
    var span = selectedSpan();
    if (!span) { return; }
    if (!current) { state("Choose a field first (click it or press J), then select the evidence."); return; }
    var list = spans[current];
    if (!list.some(function (x) { return x[0] === span[0] && x[1] === span[1]; })) {
      list.push(span);
      list.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1]; });
    }
    window.getSelection().removeAllRanges();
    renderEvidence(current);
    renderReport();
    state("Evidence attached to " + config.labels[current] + ".");
    changed();
  }

  /* ---- current field ------------------------------------------------------------- */

  function setCurrent(key) {
    if (current === key) { return; }
    if (current && byKey[current]) { byKey[current].classList.remove("is-current"); }
    current = key;
    if (key) { byKey[key].classList.add("is-current"); }
  }

  function move(delta, edit) {
    var i = current ? config.keys.indexOf(current) : -1;
    var next = Math.max(0, Math.min(config.keys.length - 1, i + delta));
    if (i < 0) { next = delta > 0 ? 0 : config.keys.length - 1; }
    var card = byKey[config.keys[next]];
    setCurrent(config.keys[next]);
    (edit ? card.querySelector("[data-value]") : card).focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
    showEvidence(current, null, true);
  }

  function judge(n) {
    if (!current) { state("Choose a field first (press J)."); return; }
    var radios = byKey[current].querySelectorAll("input[type=radio]");
    if (!radios[n - 1] || radios[n - 1].disabled) { return; }
    radios[n - 1].checked = true;
    changed();
  }

  /* ---- autosave and time spent ----------------------------------------------------- */

  var version = +(versionInput && versionInput.value);
  var timer = null, saving = null, dirty = false, stopped = false, submitting = false;
  var unsentSeconds = 0, lastActivity = Date.now();

  function collect() {
    var values = {}, judgements = {};
    config.keys.forEach(function (key) {
      var card = byKey[key];
      values[key] = card.querySelector("[data-value]").value;
      var checked = card.querySelector("input[type=radio]:checked");
      if (checked) { judgements[key] = checked.value; }
    });
    return { version: version, values: values, judgements: judgements, spans: spans, time_spent_seconds: unsentSeconds, submit: false };
  }

  function changed() {
    if (!config.editable || stopped) { return; }
    dirty = true;
    state("Unsaved changes\u2026");
    clearTimeout(timer);
    timer = setTimeout(save, SAVE_DELAY_MS);
  }

  function conflict() {
    stopped = true;
    clearTimeout(timer);
    banner.hidden = false;
    banner.scrollIntoView({ block: "nearest" });
    state("Not saved: changed elsewhere.");
  }

  function save() {
    clearTimeout(timer);
    timer = null;
    if (!config.editable || stopped) { return Promise.resolve(false); }
    if (saving) { return saving.then(function () { return dirty ? save() : true; }); }
    var body = collect();
    var sent = body.time_spent_seconds;
    dirty = false;
    state("Saving\u2026");
    saving = fetch(config.apiUrl, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 409) { conflict(); return false; }
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          dirty = true;
          if (response.status === 401 || response.status === 403) {
            state("Not saved: you are logged out or no longer allowed. Log in again in another tab, then press Ctrl+S.");
          } else {
            state("Not saved: " + (data.detail || ("the server answered " + response.status)) + ".");
            if (response.status >= 500) { timer = setTimeout(save, RETRY_MS); }
          }
          return false;
        }
        if (typeof data.version === "number") { version = data.version; versionInput.value = String(version); }
        unsentSeconds = Math.max(0, unsentSeconds - sent);
        timeInput.value = String(Math.round(unsentSeconds));
        state(dirty ? "Unsaved changes\u2026" : "Saved \u00b7 version " + version);
        var badge = document.querySelector("[data-status-badge]");
        if (badge && data.status && badge.className.indexOf("status-" + data.status) < 0) {
          badge.className = "badge status-" + data.status;
          badge.textContent = data.status.replace("_", " ");
        }
        return true;
      });
    }).catch(function () {
      dirty = true;
      state("Not saved: the server did not answer. Retrying\u2026");
      timer = setTimeout(save, RETRY_MS);
      return false;
    }).then(function (ok) {
      saving = null;
      if (dirty && !stopped && !timer) { timer = setTimeout(save, SAVE_DELAY_MS); }
      return ok;
    });
    return saving;
  }

  function activity() { lastActivity = Date.now(); }
  ["keydown", "mousedown", "input", "scroll", "wheel"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  setInterval(function () {
    if (!document.hidden && Date.now() - lastActivity < IDLE_MS && config.editable) {
      unsentSeconds += 1;
      timeInput.value = String(unsentSeconds);
    }
  }, 1000);

  /* ---- wiring -------------------------------------------------------------------- */

  report.textContent = text; // the exact stored text (CR, leading newlines and all)
  renderReport();
  config.keys.forEach(renderEvidence);
  if (helpOpen) { helpOpen.hidden = false; }

  cards.forEach(function (card) {
    var key = card.getAttribute("data-field");
    var area = card.querySelector("[data-value]");
    function grow() { area.style.height = "auto"; area.style.height = (area.scrollHeight + 2) + "px"; }
    grow();
    area.addEventListener("input", function () { grow(); changed(); });
    card.addEventListener("change", function (ev) { if (ev.target.type === "radio") { changed(); } });
    card.addEventListener("focusin", function () { var was = current; setCurrent(key); if (was !== key) { showEvidence(key, null, true); } });
    card.addEventListener("click", function (ev) {
      setCurrent(key);
      if (ev.target.closest(".draft, .field-top")) { showEvidence(key, null, false); }
    });
  });

  // On the document, not the report: a drag may end outside it. Only a selection inside
  // the report is attached (see selectedSpan).
  document.addEventListener("mouseup", function () { setTimeout(attachSelection, 0); });
  report.addEventListener("click", function (ev) {
    var mark = ev.target.closest ? ev.target.closest("mark.ev") : null;
    if (!mark || !window.getSelection().isCollapsed) { return; }
    var key = mark.getAttribute("data-keys").split(" ")[0];
    setCurrent(key);
    byKey[key].scrollIntoView({ block: "nearest", behavior: "smooth" });
    byKey[key].classList.remove("flash");
    void byKey[key].offsetWidth;
    byKey[key].classList.add("flash");
  });

  form.addEventListener("submit", function (ev) {
    var submitter = ev.submitter;
    var action = submitter ? submitter.value : "save";
    if (action === "skip" && !form.querySelector("#skip-reason").value.trim()) {
      ev.preventDefault();
      state("Give a reason to skip this document.");
      form.querySelector("#skip-reason").focus();
      return;
    }
    clearTimeout(timer);
    if (saving) {
      // Post only once the save in flight has answered, with the version it got.
      ev.preventDefault();
      saving.then(function () { if (!stopped) { form.requestSubmit(submitter); } });
      return;
    }
    timeInput.value = String(Math.round(unsentSeconds));
    submitting = true;
  });

  window.addEventListener("beforeunload", function (ev) {
    if (!submitting && !stopped && (dirty || saving)) { ev.preventDefault(); ev.returnValue = ""; }
  });

  function openHelp() { help.hidden = false; help.querySelector("[data-help-close]").focus(); }
  function closeHelp() { help.hidden = true; if (current) { byKey[current].focus(); } }
  if (helpOpen) { helpOpen.addEventListener("click", openHelp); }
  help.querySelector("[data-help-close]").addEventListener("click", closeHelp);
  help.addEventListener("click", function (ev) { if (ev.target === help) { closeHelp(); } });

  function submitNow() {
    var button = form.querySelector("[data-submit]");
    if (button && config.editable) { form.requestSubmit(button); }
  }

  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    var typing = t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable ||
      (t.tagName === "INPUT" && /^(text|search|number|email|password)$/.test(t.type));
    if (!help.hidden) {
      if (ev.key === "Escape" || ev.key === "?") { ev.preventDefault(); closeHelp(); }
      return;
    }
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") { ev.preventDefault(); submitNow(); return; }
    if ((ev.ctrlKey || ev.metaKey) && (ev.key === "s" || ev.key === "S")) { ev.preventDefault(); save(); return; }
    if (ev.altKey && !ev.ctrlKey && (ev.code === "KeyN" || ev.code === "KeyP")) {
      ev.preventDefault();
      move(ev.code === "KeyN" ? 1 : -1, true);
      return;
    }
    if (typing) {
      if (ev.key === "Escape" && current) { ev.preventDefault(); byKey[current].focus(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (ev.key === "j" || ev.key === "J") { ev.preventDefault(); move(1, false); }
    else if (ev.key === "k" || ev.key === "K") { ev.preventDefault(); move(-1, false); }
    else if (ev.key === "?") { ev.preventDefault(); openHelp(); }
    else if (ev.key === "e" || ev.key === "E") { ev.preventDefault(); attachSelection(); }
    else if (/^[1-6]$/.test(ev.key)) { ev.preventDefault(); judge(+ev.key); }
    else if (ev.key === "Enter" && t.classList && t.classList.contains("field-card")) {
      ev.preventDefault();
      t.querySelector("[data-value]").focus();
    }
  });
})();
