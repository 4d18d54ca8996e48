// Live queue for agents. All text is set with textContent.
// The queue and the open conversation are pushed by the server (server-sent events,
// /agent/live/api/stream); without EventSource, or when the stream is refused for good (e.g. the
// staff session expired), a slow poll takes over.
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
  var current = null, lastId = 0, seen = {}, lastItems = [];
  var source = null, pollTimer = null;
  var roleZh = { customer: "客户", bot: "智能助手", agent: "坐席", system: "系统" };

  function api(method, url, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (body) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) { return r.json(); });
  }

  function renderQueue(items) {
    lastItems = items;
    queue.textContent = "";
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
  }

  function applyConversation(data) {
    if (!data || !data.handover || data.handover.id !== current) return;
    var h = data.handover;
    head.textContent = h.customer + " · " + h.channel_zh + " · " + h.status_zh + " · " + h.reason_zh;
    (data.messages || []).forEach(function (m) {
      if (seen[m.id]) return;
      seen[m.id] = true;
      lastId = Math.max(lastId, m.id);
      var div = document.createElement("div");
      div.className = "m " + m.role;
      div.setAttribute("data-id", String(m.id));
      div.textContent = (roleZh[m.role] || "") + ":" + m.text;
      log.appendChild(div);
    });
    log.scrollTop = log.scrollHeight;
    if (h.status === "closed") form.hidden = true;
  }

  function loadQueue() {
    api("GET", "/agent/live/api/queue").then(function (data) { renderQueue(data.items || []); });
  }

  function loadMessages() {
    if (current === null) return;
    api("GET", "/agent/live/api/" + current + "/messages?after=" + lastId).then(applyConversation);
  }

  function startPolling() {
    if (pollTimer !== null) return;
    pollTimer = setInterval(function () { loadQueue(); loadMessages(); }, 20000);
    loadQueue(); loadMessages();
  }

  function connect() {
    if (source !== null) { source.close(); source = null; }
    if (pollTimer !== null) return;
    if (!window.EventSource) { startPolling(); return; }
    var url = "/agent/live/api/stream" + (current !== null ? "?handover=" + current + "&after=" + lastId : "");
    var s = source = new EventSource(url);
    s.addEventListener("queue", function (e) {
      if (s !== source) return;
      try { renderQueue(JSON.parse(e.data).items || []); } catch (err) { /* ignore a bad event */ }
    });
    s.onmessage = function (e) {
      if (s !== source) return;
      try { applyConversation(JSON.parse(e.data)); } catch (err) { /* ignore a bad event */ }
    };
    s.onerror = function () {
      if (s === source && s.readyState === EventSource.CLOSED) { source = null; startPolling(); }
    };
  }

  function open(id) {
    current = id; lastId = 0; seen = {}; log.textContent = ""; form.hidden = false;
    renderQueue(lastItems);
    connect();
    if (pollTimer !== null) loadMessages();
  }

  // after the agent's own actions, fetch at once as well (the push may arrive first: no duplicates)
  function refreshNow() { loadMessages(); loadQueue(); }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = text.value.trim();
    if (!t || current === null) return;
    text.value = "";
    api("POST", "/agent/live/api/" + current + "/reply", { text: t }).then(refreshNow);
  });
  document.getElementById("accept").addEventListener("click", function () {
    if (current !== null) api("POST", "/agent/live/api/" + current + "/accept").then(refreshNow);
  });
  document.getElementById("release").addEventListener("click", function () {
    if (current !== null) api("POST", "/agent/live/api/" + current + "/release").then(refreshNow);
  });
  loadQueue();
  connect();
})();
