// The duty desk's live feed. The server's events only say that alerts came; the table is fetched again
// with the page's own filters (htmx, marked as a background request so it does not keep the session
// alive). After 开始值班 a loud alert (复杂敏感事件 and above) also beeps and shows a desktop notification:
// browsers allow sound and notifications only after a person has clicked something.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var state = document.getElementById("live-state");
  var button = document.getElementById("duty-start");
  var audio = null;
  var onDuty = false;

  function say(text, css) {
    state.textContent = text;
    state.className = "live-state " + (css || "");
  }

  function beep() {
    if (!audio) { return; }
    [0, 0.35].forEach(function (start) {
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.2;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start(audio.currentTime + start);
      tone.stop(audio.currentTime + start + 0.25);
    });
  }

  function notify(alerts) {
    var loud = alerts.filter(function (a) { return a.loud; });
    if (!onDuty || !loud.length) { return; }
    beep();
    if (window.Notification && Notification.permission === "granted") {
      new Notification("【" + loud[0].level + "】新预警", { body: loud[0].title, tag: "yuqing-alert" });
    }
  }

  function refresh() {
    if (window.htmx) {
      window.htmx.trigger("#feed", "refresh");
    } else {
      window.location.reload();
    }
  }

  button.addEventListener("click", function () {
    onDuty = !onDuty;
    button.setAttribute("aria-pressed", onDuty ? "true" : "false");
    button.textContent = onDuty ? "值班中（点击停止提醒）" : "开始值班（声音与桌面通知）";
    if (onDuty) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!audio && Context) { audio = new Context(); }
      if (audio && audio.state === "suspended") { audio.resume(); }
      if (window.Notification && Notification.permission === "default") { Notification.requestPermission(); }
    }
  });

  var source = new EventSource(live.getAttribute("data-stream"));
  source.addEventListener("ready", function () { say("实时推送：已连接", "on"); });
  source.addEventListener("alerts", function (event) {
    var data = JSON.parse(event.data);
    say("实时推送：已连接，" + new Date().toLocaleTimeString("zh-CN", { hour12: false }) + " 收到 " + data.alerts.length + " 条新预警", "on");
    notify(data.alerts);
    refresh();
  });
  source.addEventListener("end", function (event) {
    source.close();
    say("实时推送已停止：" + JSON.parse(event.data).reason, "off");
    window.location.reload();  // the page then goes to the login form
  });
  source.onerror = function () {
    if (source.readyState === EventSource.CLOSED) {
      say("实时推送已断开：请刷新页面（若已退出登录，请重新登录）", "off");
    } else {
      say("实时推送：连接中断，正在重连…", "off");
    }
  };
})();
