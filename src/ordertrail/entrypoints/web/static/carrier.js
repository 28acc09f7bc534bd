// Carrier detection as the seller types a tracking number: asks the server what the form will
// decide (same rules, same order context) and says so beside the field.
(function () {
  "use strict";
  document.querySelectorAll("form[data-detect-url]").forEach(function (form) {
    var input = form.querySelector("[data-detect-input]");
    var output = form.querySelector("[data-detect-output]");
    var select = form.querySelector("[data-detect-carrier]");
    if (!input || !output) return;
    var timer = null;
    var asked = 0;
    function show(text, state) {
      output.textContent = text;
      output.classList.remove("ok", "bad");
      if (state) output.classList.add(state);
    }
    function detect() {
      var number = input.value.replace(/\s+/g, "");
      if (select && select.value) { show("", null); return; }
      if (number.length < 4) { show("We detect the carrier from the number.", null); return; }
      var ticket = ++asked;
      var url = form.getAttribute("data-detect-url") + "&number=" + encodeURIComponent(number);
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || ticket !== asked) return;  // a newer keystroke has asked since
          if (body.name) show("Detected carrier: " + body.name, "ok");
          else if (body.problem) show(body.problem.message, "bad");
        })
        .catch(function () { show("", null); });
    }
    function clearServerErrors() {
      // The errors the server rendered were about the number as it was; it is being retyped now.
      form.querySelectorAll(".field.has-error").forEach(function (field) {
        field.classList.remove("has-error");
        var error = field.querySelector(".error");
        if (error) error.remove();
        field.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
      });
    }
    input.addEventListener("input", function () {
      clearServerErrors();
      clearTimeout(timer);
      timer = setTimeout(detect, 250);
    });
    if (select) select.addEventListener("change", detect);
    // A number the server refused already has its reason above it: the hint would only repeat it.
    if (input.value && input.getAttribute("aria-invalid") !== "true") detect();
  });
})();
