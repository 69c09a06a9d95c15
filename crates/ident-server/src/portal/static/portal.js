// FondsKontor portal: live status without reloading. The pages work without
// this file; it only adds the countdown and the polling. No inline script
// exists anywhere (the CSP forbids it).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }
  function clock(secs) {
    var s = Math.max(0, secs);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }
  function setStatus(el, text, cls) {
    el.textContent = text;
    el.classList.remove("is-ok", "is-error");
    if (cls) el.classList.add(cls);
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // The push wait page: countdown and the login status (long poll).
  function push(root) {
    if (root.dataset.state !== "pending") return;
    var status = document.getElementById("push-status");
    var countdown = document.getElementById("push-countdown");
    var progress = document.getElementById("push-progress");
    var deadline = Date.now() + Number(root.dataset.remaining) * 1000;
    var done = false;
    var timer = setInterval(function () {
      var left = Math.round((deadline - Date.now()) / 1000);
      if (countdown) countdown.textContent = fill(status.dataset.textExpires, { time: clock(left) });
      if (progress) progress.value = Math.max(0, left);
      if (left <= 0) clearInterval(timer);
    }, 1000);
    function finish(state, next) {
      done = true;
      clearInterval(timer);
      if (state === "approved") {
        setStatus(status, status.dataset.textApproved, "is-ok");
        window.location.assign(next || "/portal/");
      } else {
        var key = "text" + state.charAt(0).toUpperCase() + state.slice(1);
        setStatus(status, status.dataset[key] || status.dataset.textExpired, "is-error");
        // The page itself shows the outcome and the ways on.
        setTimeout(function () { window.location.reload(); }, 1500);
      }
    }
    async function poll() {
      var failures = 0;
      while (!done) {
        try {
          var r = await fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } });
          var body = await r.json();
          if (body.status === "gone") { window.location.assign(body.next || "/portal/login"); return; }
          if (body.status === "error") { failures++; await sleep(Math.min(10000, 1000 * failures)); continue; }
          failures = 0;
          if (body.status !== "pending") { finish(body.status, body.next); return; }
        } catch (e) {
          failures++;
          await sleep(Math.min(10000, 1000 * failures));
        }
      }
    }
    poll();
  }

  // The app setup page: has the app enrolled yet?
  function setup(root) {
    var status = document.getElementById("setup-status");
    var deadline = Date.now() + Number(root.dataset.remaining) * 1000;
    async function poll() {
      while (true) {
        await sleep(2000);
        try {
          var r = await fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } });
          if (!r.ok) continue;
          var body = await r.json();
          if (body.status === "completed") {
            setStatus(status, status.dataset.textCompleted, "is-ok");
            var qr = document.getElementById("setup-qr");
            if (qr) qr.hidden = true;
            return;
          }
          if (body.status === "expired" || Date.now() > deadline) {
            setStatus(status, status.dataset.textExpired, "is-error");
            return;
          }
        } catch (e) { /* try again */ }
      }
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var p = document.getElementById("push");
    if (p) push(p);
    var s = document.getElementById("setup");
    if (s) setup(s);
  });
})();
