// Live queue for agents. All text is set with textContent.
(function () {
  "use strict";
  var root = document.getElementById("live");
  var csrf = root.getAttribute("data-csrf");
  var queue = document.getElementById("queue");
  var empty = document.getElementById("empty");
  var head = document.getElementById("head");
  var log = document.getElementById("log");
  var form = document.getElementById("reply");
  var text = document.getElementById("text");
  var current = null, lastId = 0;
  var roleZh = { customer: "客户", bot: "智能助手", agent: "坐席", system: "系统" };

  function api(method, url, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) { return r.json(); });
  }

  function loadQueue() {
    api("GET", "/agent/live/api/queue").then(function (data) {
      queue.textContent = "";
      var items = data.items || [];
      empty.hidden = items.length > 0;
      items.forEach(function (h) {
        var li = document.createElement("li");
        if (current === h.id) li.className = "sel";
        var a = document.createElement("div");
        a.textContent = h.customer + " · " + h.channel_zh;
        var b = document.createElement("div");
        b.className = "st " + h.status;
        b.textContent = h.status_zh + " · " + h.reason_zh + (h.ticket ? " · " + h.ticket : "");
        li.appendChild(a); li.appendChild(b);
        li.setAttribute("data-id", String(h.id));
        li.addEventListener("click", function () { open(h.id); });
        queue.appendChild(li);
      });
    });
  }

  function open(id) {
    current = id; lastId = 0; log.textContent = ""; form.hidden = false;
    loadMessages(); loadQueue();
  }

  function loadMessages() {
    if (current === null) return;
    api("GET", "/agent/live/api/" + current + "/messages?after=" + lastId).then(function (data) {
      if (!data.handover) return;
      var h = data.handover;
      head.textContent = h.customer + " · " + h.channel_zh + " · " + h.status_zh + " · " + h.reason_zh;
      (data.messages || []).forEach(function (m) {
        lastId = Math.max(lastId, m.id);
        var div = document.createElement("div");
        div.className = "m " + m.role;
        div.textContent = (roleZh[m.role] || "") + ":" + m.text;
        log.appendChild(div);
      });
      log.scrollTop = log.scrollHeight;
      if (h.status === "closed") form.hidden = true;
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = text.value.trim();
    if (!t || current === null) return;
    text.value = "";
    api("POST", "/agent/live/api/" + current + "/reply", { text: t }).then(loadMessages);
  });
  document.getElementById("accept").addEventListener("click", function () {
    if (current !== null) api("POST", "/agent/live/api/" + current + "/accept").then(function () { loadMessages(); loadQueue(); });
  });
  document.getElementById("release").addEventListener("click", function () {
    if (current !== null) api("POST", "/agent/live/api/" + current + "/release").then(function () { loadMessages(); loadQueue(); });
  });
  loadQueue();
  setInterval(function () { loadQueue(); loadMessages(); }, 3000);
})();
