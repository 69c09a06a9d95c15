// Customer mail: the editor's live preview and a running send's progress.
// The pages work without this file (a "refresh preview" button, a reload
// link); it only saves the clicks. No inline script exists (the CSP forbids it).
(function () {
  "use strict";

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // The editor: after a pause in typing, ask the server for the preview.
  function editor(form) {
    var url = form.dataset.previewUrl;
    var error = document.getElementById("preview-error");
    var head = document.getElementById("preview-head");
    var to = document.getElementById("preview-to");
    var subject = document.getElementById("preview-subject");
    var body = document.getElementById("preview-body");
    var timer = null;
    var seq = 0;
    async function refresh() {
      var mine = ++seq;
      var data = new URLSearchParams(new FormData(form));
      data.delete("aktion");
      try {
        var r = await fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Accept": "application/json" },
          body: data
        });
        if (!r.ok || mine !== seq) return;
        var p = await r.json();
        if (mine !== seq) return;
        if (p.ok) {
          to.textContent = p.recipient + (p.to ? " <" + p.to + ">" : "");
          subject.textContent = p.subject;
          body.textContent = p.body;
          error.hidden = true;
          error.textContent = "";
          head.hidden = false;
          body.hidden = false;
        } else {
          error.textContent = p.error || "";
          error.hidden = false;
          head.hidden = true;
          body.hidden = true;
        }
      } catch (e) { /* keep the last preview */ }
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 500);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  // The log page of a running send: follow the counts, reload when done.
  async function progress(root) {
    if (root.dataset.state !== "running") return;
    var result = document.getElementById("log-result");
    while (true) {
      await sleep(1500);
      try {
        var r = await fetch(root.dataset.statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } });
        if (!r.ok) continue;
        var s = await r.json();
        if (result) {
          result.dataset.sent = s.sent;
          result.dataset.pending = s.pending;
        }
        if (s.state !== "running") { window.location.reload(); return; }
      } catch (e) { /* try again */ }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var f = document.getElementById("mail-form");
    if (f) editor(f);
    var c = document.getElementById("mail-campaign");
    if (c) progress(c);
  });
})();
