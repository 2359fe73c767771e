/* Adjudication page: picking a value copies it into the field's text box (the value that
   will be saved); typing in the box picks "edited". Without JavaScript the server reads
   the picked radio, or the text box when it was changed. Ctrl+Enter saves. */
(function () {
  "use strict";
  var form = document.querySelector("[data-adjudicate-form]");
  if (!form) { return; }
  form.querySelectorAll("tr[data-row]").forEach(function (row) {
    var edit = row.querySelector("[data-edit]");
    var orig = row.querySelector("[data-orig]");
    var edited = row.querySelector("input[type=radio][value=edited]");
    row.querySelectorAll("input[type=radio]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio === edited || !radio.checked) { return; }
        edit.value = radio.getAttribute("data-value");
        orig.value = edit.value;
      });
    });
    edit.addEventListener("input", function () { edited.checked = true; });
  });
  document.addEventListener("keydown", function (ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") { ev.preventDefault(); form.requestSubmit(); }
  });
})();
