// tradewatch web pages: live silence preview, silence changes with the API token, live Tune.
"use strict";
(function () {
  var KEY = "tradewatch-api-token";
  function token() { try { return sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; } }
  function headers(typed) {
    var h = { "Content-Type": "application/x-www-form-urlencoded" };
    var t = typed || token();
    if (t) { h.Authorization = "Bearer " + t; }
    return h;
  }
  function say(where, text, kind) {
    if (!where) { return; }
    where.innerHTML = "";
    var p = document.createElement("p");
    p.className = "msg " + (kind || "error");
    p.setAttribute("role", kind === "ok" ? "status" : "alert");
    p.textContent = text;
    where.appendChild(p);
  }
  function refusal(status, body) {
    var text = (body && body.error) || ("the server answered " + status);
    if (status === 401 || status === 403) {
      return "Refused (" + status + "): " + text + ". Enter the API token under \u201cAPI token\u201d at the top.";
    }
    return text.charAt(0).toUpperCase() + text.slice(1);
  }
  // A form's own token field (for posting without script) serves too when the box at the top is empty;
  // it travels as the bearer header, never in the body.
  function formData(form) {
    var data = new URLSearchParams(new FormData(form));
    var typed = data.get("token") || "";
    data.delete("token");
    data.delete("via");
    return { body: data.toString(), token: typed };
  }
  function post(url, data) {
    return fetch(url, { method: "POST", headers: headers(data.token), body: data.body, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var field = document.getElementById("api-token");
    if (field) {
      field.value = token();
      field.addEventListener("input", function () {
        try { sessionStorage.setItem(KEY, field.value); } catch (e) { /* private mode: not kept */ }
      });
    }
    silences();
    tune();
  });

  document.addEventListener("click", function (ev) {
    var copy = ev.target.closest && ev.target.closest("[data-copy]");
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      var note = copy.parentNode.querySelector(".copied");
      var text = source ? source.textContent : "";
      var done = function () { if (note) { note.textContent = " Copied."; } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(source); });
      } else { select(source); if (note) { note.textContent = " Selected: press Ctrl+C to copy."; } }
    }
  });
  function select(node) {
    if (!node) { return; }
    var range = document.createRange();
    range.selectNodeContents(node);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function silences() {
    var form = document.getElementById("silence-form");
    var input = document.getElementById("matchers");
    var preview = document.getElementById("preview");
    if (!form || !input || !preview) { return; }
    // With script the "API token" box at the top serves every change: the forms' own token fields go.
    document.querySelectorAll(".form-token").forEach(function (node) { node.hidden = true; });
    var timer = null, seq = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch("/ui/silences/preview?matchers=" + encodeURIComponent(input.value))
          .then(function (r) { return r.text(); })
          .then(function (html) { if (mine === seq) { preview.innerHTML = html; } });
      }, 250);
    });
    var result = document.getElementById("silence-result");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      post("/ui/silences", formData(form)).then(function (r) {
        if (r.status === 200) {
          window.location.assign("/ui/silences?created=" + encodeURIComponent(r.body.data.silenceID));
        } else { say(result, refusal(r.status, r.body)); }
      }, function () { say(result, "The daemon did not answer."); });
    });
    var expired = document.getElementById("expire-result");
    var expiry = document.getElementById("expire-form");
    document.querySelectorAll("button.expire").forEach(function (button) {
      button.addEventListener("click", function (ev) {
        ev.preventDefault();
        var id = button.getAttribute("data-id");
        var data = expiry ? formData(expiry) : { body: "", token: "" };
        post("/ui/silences/" + encodeURIComponent(id) + "/expire", { body: "", token: data.token }).then(function (r) {
          if (r.status === 200) { window.location.assign("/ui/silences?expired=" + encodeURIComponent(id)); }
          else { say(expired, refusal(r.status, r.body)); }
        }, function () { say(expired, "The daemon did not answer."); });
      });
    });
  }

  function tune() {
    var form = document.getElementById("tune-form");
    var out = document.getElementById("tune-result");
    if (!form || !out) { return; }
    var events = null, eventsName = "", seq = 0, runs = 0;
    function run() {
      var data = new URLSearchParams(new FormData(form));
      if (events !== null) { data.set("events", events); data.set("events_name", eventsName); }
      var mine = ++seq;
      out.setAttribute("aria-busy", "true");
      fetch("/ui/tune/run", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
                              body: data.toString() })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== seq) { return; }
          out.innerHTML = html;
          out.setAttribute("data-run", String(++runs));
          out.removeAttribute("aria-busy");
        }, function () { if (mine === seq) { say(out, "The daemon did not answer."); out.removeAttribute("aria-busy"); } });
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); run(); });
    form.addEventListener("change", function (ev) {
      var t = ev.target;
      if (t.id === "rule") { window.location.assign("/ui/tune?rule=" + encodeURIComponent(t.value)); return; }
      if (t.id === "events-file") {
        var file = t.files && t.files[0];
        if (!file) { events = null; run(); return; }
        file.text().then(function (text) { events = text; eventsName = file.name; run(); });
        return;
      }
      run();
    });
  }
})();
