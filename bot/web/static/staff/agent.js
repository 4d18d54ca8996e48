/* Agent console: talks to /api/agent with the session cookie and the CSRF header. */
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var callId = null;
  var $ = function (id) { return document.getElementById(id); };
  var SLOT_LABELS = {
    policy_number: "保单号", claim_number: "理赔案号", ticket_number: "工单号", id_number: "身份证号",
    phone_number: "手机号", person_name: "姓名", relationship: "关系", claim_type: "理赔类型",
    business_type: "业务类型", plate_number: "车牌号", date: "日期", amount: "金额", share: "比例",
    verified: "已核验"
  };

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (resp.status === 401) { window.location = "/desk/login?next=/agent"; }
        if (!resp.ok) { throw new Error(data.message || "操作未成功,请稍后重试。"); }
        return data;
      });
    });
  }

  function showError(msg) { var e = $("console-error"); e.textContent = msg; e.hidden = !msg; }

  function addLine(who, text) {
    var div = document.createElement("div");
    div.className = "msg " + (who === "caller" ? "customer" : "assistant");
    var span = document.createElement("span"); span.className = "who";
    span.textContent = who === "caller" ? "客户" : "话术";
    var p = document.createElement("p"); p.textContent = text;
    div.appendChild(span); div.appendChild(p);
    $("dialog").appendChild(div);
    $("dialog").scrollTop = $("dialog").scrollHeight;
  }

  function render(state) {
    $("intent").textContent = state.intent || "—";
    $("confidence").textContent = (typeof state.confidence === "number") ? (state.confidence * 100).toFixed(1) + "%" : "—";
    $("verified").textContent = state.verified ? "已核验" : "未核验";
    $("verified").className = state.verified ? "ok" : "";
    var tbody = $("slots").querySelector("tbody"); tbody.innerHTML = "";
    var slots = state.slots || {}; var keys = Object.keys(slots);
    if (!keys.length) { tbody.innerHTML = '<tr><td class="muted">暂无</td></tr>'; }
    keys.forEach(function (k) {
      var tr = document.createElement("tr");
      var a = document.createElement("th"); a.textContent = SLOT_LABELS[k] || k;
      var b = document.createElement("td"); var v = slots[k];
      b.textContent = (typeof v === "boolean") ? (v ? "是" : "否") : (typeof v === "object") ? JSON.stringify(v) : String(v);
      tr.appendChild(a); tr.appendChild(b); tbody.appendChild(tr);
    });
    var p = state.policy;
    $("policy-card").hidden = !p;
    if (p) {
      var dl = $("policy"); dl.innerHTML = "";
      [["保单号", p.number], ["产品", p.product_name], ["投保人", p.policyholder], ["被保险人", p.insured],
       ["保额", "¥" + p.sum_insured], ["期交保费", "¥" + p.premium], ["扣款账户", (p.bank_name || "") + " " + (p.bank_account || "")],
       ["受益人", (p.beneficiaries || []).map(function (b) { return b.name + "(" + b.relationship + " " + b.share_pct + "%)"; }).join("、") || "法定"]
      ].forEach(function (row) {
        var dt = document.createElement("dt"); dt.textContent = row[0];
        var dd = document.createElement("dd"); dd.textContent = row[1];
        dl.appendChild(dt); dl.appendChild(dd);
      });
    }
    var c = state.checklist;
    $("checklist-card").hidden = !(c && c.items && c.items.length && state.verified);
    if (c && c.items) {
      $("checklist-title").textContent = c.title || "材料清单";
      var ul = $("checklist"); ul.innerHTML = "";
      c.items.forEach(function (it) { var li = document.createElement("li"); li.textContent = it.label; ul.appendChild(li); });
    }
    var tl = $("tickets"); tl.innerHTML = "";
    (state.tickets || []).forEach(function (t) {
      var li = document.createElement("li");
      li.textContent = t.number + " · " + t.type_label + " · " + t.status_label; tl.appendChild(li);
    });
  }

  function enable(on) {
    ["say-input", "btn-say", "btn-ticket", "btn-route"].forEach(function (id) { $(id).disabled = !on; });
  }

  $("btn-start").addEventListener("click", function () {
    showError("");
    api("POST", "/api/agent/calls").then(function (data) {
      callId = data.call_id;
      $("call-label").textContent = "通话编号 " + callId;
      $("dialog").innerHTML = ""; $("tickets").innerHTML = "";
      $("script").textContent = "您好,这里是客服热线,请问有什么可以帮您?";
      render({});
      enable(true); $("say-input").focus();
    }).catch(function (e) { showError(e.message); });
  });

  $("say-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("say-input").value.trim();
    if (!text || !callId) { return; }
    addLine("caller", text); $("say-input").value = ""; $("btn-say").disabled = true; showError("");
    api("POST", "/api/agent/calls/" + encodeURIComponent(callId) + "/messages", { text: text }).then(function (data) {
      if (!data.ok) { showError(data.error); }
      if (data.script) { $("script").textContent = data.script; addLine("bot", data.script); }
      render(data);
    }).catch(function (e) { showError(e.message); }).then(function () { $("btn-say").disabled = false; $("say-input").focus(); });
  });

  $("ticket-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); if (!callId) { return; }
    api("POST", "/api/agent/calls/" + encodeURIComponent(callId) + "/tickets",
      { ticket_type: $("ticket-type").value, note: $("ticket-note").value }).then(function (t) {
      showError(""); $("script").textContent = "已为您登记,工单号是 " + t.number + "," + t.team_label + "会尽快处理并联系您。";
      var li = document.createElement("li"); li.className = "new"; li.textContent = t.message; $("tickets").appendChild(li);
    }).catch(function (e) { showError(e.message); });
  });

  $("route-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); if (!callId) { return; }
    api("POST", "/api/agent/calls/" + encodeURIComponent(callId) + "/route",
      { team: $("route-team").value, note: $("route-note").value }).then(function (t) {
      showError(""); var li = document.createElement("li"); li.className = "new"; li.textContent = t.message; $("tickets").appendChild(li);
    }).catch(function (e) { showError(e.message); });
  });
})();
