// Live tracking: the server pushes the re-rendered tracking section over Server-Sent Events
// whenever a new carrier scan (or any other change) arrives; the page swaps it in place.
(function () {
  "use strict";
  var region = document.getElementById("tracking");
  var status = document.getElementById("live-status");
  if (!region || !window.EventSource) return;
  var source = new EventSource(region.getAttribute("data-live-url"));
  source.addEventListener("tracking", function (event) {
    var before = {};
    region.querySelectorAll(".shipment").forEach(function (card) {
      before[card.getAttribute("aria-labelledby")] = card.querySelectorAll(".event").length;
    });
    region.innerHTML = event.data;
    if (window.localiseTimes) window.localiseTimes(region);
    var news = [];
    region.querySelectorAll(".shipment").forEach(function (card) {
      var known = before[card.getAttribute("aria-labelledby")] || 0;
      var events = card.querySelectorAll(".event");
      if (events.length > known) {
        events[0].classList.add("event-new");
        news.push(events[0].querySelector(".event-status").textContent + ": " +
                  events[0].querySelector(".event-desc").textContent);
      }
    });
    if (status) status.textContent = news.length ? "Tracking updated. " + news.join(". ") : "Tracking updated.";
  });
})();
