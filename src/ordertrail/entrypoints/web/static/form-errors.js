// A form sent back with errors can sit far down a long page (a correction under the parcels, a
// decision under the case history): bring the first field at fault into view and focus it, so the
// person sees at once what to fix. Without scripts the page still shows every error beside its field.
(function () {
  "use strict";
  var bad = document.querySelector('[aria-invalid="true"]') || document.querySelector("main .error");
  if (!bad) return;
  bad.scrollIntoView({ block: "center" });
  if (bad.matches("input, select, textarea")) bad.focus({ preventScroll: true });
})();
