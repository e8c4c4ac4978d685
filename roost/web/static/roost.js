// Roost's small script layer. Pages work without it; it adds conveniences.
// No inline script is allowed by the Content-Security-Policy, so behaviour is
// attached here by data- attributes.
(function () {
  "use strict";

  // htmx requests (if a page uses them) carry the page's CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
  });

  // <button data-confirm="Really?"> asks before its form is sent.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  // <button data-copy="#id"> copies that element's text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button || !navigator.clipboard) { return; }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (source) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = button.getAttribute("data-copied") || "Copied";
      });
    }
  });

  // <time datetime> shown in the reader's own time zone and language.
  var format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  document.querySelectorAll("time[data-local]").forEach(function (node) {
    var moment = new Date(node.getAttribute("datetime"));
    if (!isNaN(moment.getTime())) { node.textContent = format.format(moment); }
  });

  // <div data-live="/web/stream/home">: new posts arrive over server-sent
  // events as cards of HTML (rendered and escaped by the server) and go on
  // top; a deleted post's card goes away.
  document.querySelectorAll("[data-live]").forEach(function (list) {
    if (!window.EventSource) { return; }
    var status = document.querySelector(list.getAttribute("data-live-status"));
    var say = function (text) { if (status) { status.textContent = text; } };
    var source = new EventSource(list.getAttribute("data-live"));
    source.addEventListener("open", function () { say("New posts appear here as they arrive."); });
    source.addEventListener("error", function () { say("Reconnecting…"); });
    source.addEventListener("update", function (event) {
      var holder = document.createElement("template");
      holder.innerHTML = event.data.trim();
      var card = holder.content.firstElementChild;
      if (!card || (card.id && document.getElementById(card.id))) { return; }
      var empty = list.querySelector(".empty");
      if (empty) { empty.remove(); }
      list.insertBefore(card, list.firstChild);
      if (window.htmx) { window.htmx.process(card); }
      card.querySelectorAll("time[data-local]").forEach(function (node) {
        var moment = new Date(node.getAttribute("datetime"));
        if (!isNaN(moment.getTime())) { node.textContent = format.format(moment); }
      });
      say("1 new post.");
    });
    source.addEventListener("delete", function (event) {
      var gone = document.getElementById("post-" + event.data.trim());
      if (gone) { gone.remove(); }
    });
  });
})();
