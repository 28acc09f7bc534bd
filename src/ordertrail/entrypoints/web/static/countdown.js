// Deadlines count down while the page is open. The server said how many seconds were left when it
// rendered the page (by its own clock); this only subtracts the time the page has been open.
(function () {
  "use strict";
  var items = document.querySelectorAll("[data-seconds-left]");
  if (!items.length) return;
  var opened = Date.now();
  function span(seconds) {
    var minutes = Math.floor(seconds / 60);
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days) return days + " day" + (days === 1 ? "" : "s") + " " + hours + " h";
    if (hours) return hours + " h " + mins + " min";
    return mins + " min";
  }
  function tick() {
    var elapsed = (Date.now() - opened) / 1000;
    items.forEach(function (el) {
      var left = parseInt(el.getAttribute("data-seconds-left"), 10) - elapsed;
      el.textContent = left > 0 ? span(left) + " left" : "overdue by " + span(-left);
      el.classList.toggle("overdue", left <= 0);
    });
  }
  setInterval(tick, 30000);
})();
