// Web chat client. Everything shown is set with textContent: nothing the customer, the assistant
// or an agent sends is ever parsed as HTML.
(function () {
  "use strict";
  var app = document.getElementById("app");
  var log = document.getElementById("log");
  var typing = document.getElementById("typing");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var send = document.getElementById("send");
  var fileInput = document.getElementById("file");
  var errorBox = document.getElementById("error");
  var statusLine = document.getElementById("status");
  var maxBytes = parseInt(app.getAttribute("data-max-bytes"), 10) || 10485760;
  var maxMb = app.getAttribute("data-max-mb") || "10";
  var allowed = ["image/jpeg", "image/png", "image/heic", "image/heif", "application/pdf"];
  var allowedExt = /\.(jpe?g|png|heic|heif|pdf)$/i;
  var lastId = 0;
  var busy = 0;
  var seen = {};
  var HEADERS = { "Content-Type": "application/json", "X-Chat-Request": "1" };

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function setBusy(delta) {
    busy += delta;
    typing.hidden = busy <= 0;
    send.disabled = busy > 0;
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function clearPending() {
    var pending = log.querySelectorAll(".pending");
    for (var i = 0; i < pending.length; i++) pending[i].remove();
  }

  function render(m) {
    if (seen[m.id]) return;
    seen[m.id] = true;
    lastId = Math.max(lastId, m.id);
    var div = document.createElement("div");
    div.className = "msg " + (["customer", "bot", "agent", "system"].indexOf(m.role) >= 0 ? m.role : "bot");
    div.setAttribute("data-id", String(m.id));
    if (m.role === "agent") {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = "人工客服";
      div.appendChild(who);
    }
    var body = document.createElement("span");
    body.className = "text";
    body.textContent = m.text || "";
    div.appendChild(body);
    if (m.buttons && m.buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      m.buttons.forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = b.title;
        btn.addEventListener("click", function () {
          var all = row.querySelectorAll("button");
          for (var i = 0; i < all.length; i++) all[i].disabled = true;
          post(b.payload, b.title);
        });
        row.appendChild(btn);
      });
      div.appendChild(row);
    }
    log.appendChild(div);
  }

  function apply(state, pushed) {
    var messages = state.messages || [];
    // a pushed event clears the grey "sending" bubble only once the customer's own message is in it
    var mine = messages.some(function (m) { return m.role === "customer"; });
    if (!pushed || mine) clearPending();
    messages.forEach(render);
    if (state.handover === "waiting") statusLine.textContent = "正在为您转接人工客服…";
    else if (state.handover === "active") statusLine.textContent = "人工客服为您服务中";
    else statusLine.textContent = "智能助手为您服务";
    scrollDown();
  }

  function refresh() {
    return fetch("/chat/api/history?after=" + lastId, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) { if (state) apply(state); })
      .catch(function () {});
  }

  function pendingBubble(text) {
    var div = document.createElement("div");
    div.className = "msg customer pending";
    div.textContent = text;
    log.appendChild(div);
    scrollDown();
  }

  function post(text, shown) {
    showError("");
    pendingBubble(shown || text);
    setBusy(1);
    return fetch("/chat/api/message", {
      method: "POST", credentials: "same-origin", headers: HEADERS,
      body: JSON.stringify({ text: text, shown: shown || null, after: lastId })
    }).then(function (r) {
      if (r.status === 429) return r.json().then(function (b) { throw new Error(b.detail || ""); });
      if (!r.ok) throw new Error("");
      return r.json();
    }).then(apply).catch(function (err) {
      clearPending();
      showError((err && err.message) || "消息发送失败,请检查网络后重试。");
    }).then(function () { setBusy(-1); });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || busy > 0) return;
    input.value = "";
    post(text, null);
  });

  document.getElementById("quick").addEventListener("click", function (e) {
    var t = e.target;
    if (t && t.getAttribute && t.getAttribute("data-payload") && busy <= 0) {
      post(t.getAttribute("data-payload"), t.getAttribute("data-shown"));
    }
  });

  fileInput.addEventListener("change", function () {
    var f = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!f) return;
    showError("");
    if (f.size > maxBytes) { showError("文件过大,单个文件请不要超过 " + maxMb + "MB。"); return; }
    if (allowed.indexOf(f.type) < 0 && !allowedExt.test(f.name)) {
      showError("仅支持 JPG、PNG、HEIC 格式的照片或 PDF 文件。"); return;
    }
    var data = new FormData();
    data.append("file", f);
    // text typed before choosing the file names the document (e.g. “驾驶证”)
    var hint = input.value.trim();
    if (hint && hint.length <= 64) { data.append("doc", hint); input.value = ""; }
    data.append("after", String(lastId));
    pendingBubble("[文件] " + f.name);
    setBusy(1);
    fetch("/chat/api/upload", { method: "POST", credentials: "same-origin", headers: { "X-Chat-Request": "1" }, body: data })
      .then(function (r) { return r.json().catch(function () { return {}; }); })
      .then(function (state) {
        if (state && state.detail && !(state.messages && state.messages.length)) {
          clearPending(); showError(String(state.detail)); return;
        }
        apply(state);
      })
      .catch(function () { clearPending(); showError("上传失败,请检查网络后重试。"); })
      .then(function () { setBusy(-1); });
  });

  // New messages are pushed by the server (server-sent events); where EventSource is missing or
  // the stream is refused for good, a slow poll takes over. EventSource reconnects by itself
  // after a network drop and resumes with Last-Event-ID.
  var pollTimer = null;
  function startPolling() {
    if (pollTimer !== null) return;
    pollTimer = setInterval(function () { if (!document.hidden && busy <= 0) refresh(); }, 20000);
  }
  function connect() {
    if (!window.EventSource) { startPolling(); return; }
    var source = new EventSource("/chat/api/stream?after=" + lastId);
    source.onmessage = function (e) {
      var state;
      try { state = JSON.parse(e.data); } catch (err) { return; }
      apply(state, true);
    };
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { startPolling(); refresh(); }
    };
  }
  refresh().then(connect);
})();
