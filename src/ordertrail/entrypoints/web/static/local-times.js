// Instants are rendered in UTC (the server cannot know the reader's zone); shown here in the reader's
// own, in the same shape: "Thu 26 Nov 2026, 21:06 PST". The UTC text stays for readers without
// scripts. live.js calls window.localiseTimes on each tracking section it swaps in.
(function () {
  "use strict";
  if (!window.Intl) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === "UTC" || zone === "Etc/UTC") return;
  var format = new Intl.DateTimeFormat("en-US", {
    weekday: "short", day: "2-digit", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
  });
  function localise(root) {
    root.querySelectorAll("time[data-utc]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) return;
      var p = {};
      format.formatToParts(at).forEach(function (part) { p[part.type] = part.value; });
      el.textContent = p.weekday + " " + p.day + " " + p.month + " " + p.year + ", " +
        p.hour + ":" + p.minute + " " + p.timeZoneName;
      el.title = el.getAttribute("datetime");
    });
  }
  window.localiseTimes = localise;
  localise(document);
})();
