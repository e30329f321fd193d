// The inbox's reply box: a live character and SMS segment count (from the server's own counter, so the
// numbers are the ones billed), and canned replies inserted without reloading. Without JavaScript the count
// is shown when the page loads and the "Use" button fills the box through the server.
(function () {
  "use strict";
  var script = document.currentScript;
  var template = script ? script.getAttribute("data-count-template") : "";
  var textarea = document.querySelector("textarea[name=body]");
  var count = document.getElementById("reply-count");
  if (!textarea || !count) return;
  var form = textarea.form;
  var url = form.getAttribute("data-segments-url");
  var timer = null;
  var latest = 0;

  function show(data) {
    count.textContent = template
      .replace("{characters}", data.characters)
      .replace("{limit}", data.limit)
      .replace("{segments}", data.segments)
      .replace("{encoding}", data.encoding);
    count.classList.toggle("error", data.too_long);
  }

  function refresh() {
    var ticket = ++latest;
    fetch(url + "?text=" + encodeURIComponent(textarea.value), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && ticket === latest) show(data); })
      .catch(function () {});
  }

  textarea.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 150);
  });

  var canned = document.querySelector("select[data-canned]");
  if (canned) {
    canned.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var option = canned.options[canned.selectedIndex];
      if (!option) return;
      var body = option.getAttribute("data-body") || "";
      var start = textarea.selectionStart || 0;
      var end = textarea.selectionEnd || 0;
      textarea.value = textarea.value.slice(0, start) + body + textarea.value.slice(end);
      textarea.focus();
      textarea.selectionStart = textarea.selectionEnd = start + body.length;
      refresh();
    });
  }
})();
