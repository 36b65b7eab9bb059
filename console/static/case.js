// A case's countdowns: the server renders each deadline and its own time (data-now); this only keeps the
// remaining time moving, counted from the server's clock, never the browser's.
(function () {
  "use strict";
  var page = document.querySelector("[data-now]");
  if (!page) { return; }
  var offset = Date.parse(page.getAttribute("data-now")) - Date.now();
  var clocks = document.querySelectorAll("time.countdown");
  function two(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now() + offset;
    for (var i = 0; i < clocks.length; i++) {
      var left = Math.round((Date.parse(clocks[i].getAttribute("datetime")) - now) / 1000);
      var late = left < 0;
      var s = Math.abs(left);
      var text = Math.floor(s / 3600) + " 小时 " + two(Math.floor((s % 3600) / 60)) + " 分 " + two(s % 60) + " 秒";
      clocks[i].textContent = late ? "已超时 " + text : "还剩 " + text;
      clocks[i].classList.toggle("late", late);
    }
  }
  tick();
  window.setInterval(tick, 1000);
})();
