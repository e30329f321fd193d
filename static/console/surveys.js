/* Surveys: the results refresh themselves, the send page counts its audience as it changes, and a question
   shows the parts its kind uses. Every page works without it: the results are then as fresh as their last
   load, the count is the "Update the count" button's, and every part of a question is shown. */
(function () {
  "use strict";
  if (!window.fetch) return;

  // --- results: ?partial=1 is the results alone, swapped in every few seconds ---------------------------
  var box = document.getElementById("results");
  if (box) {
    var every = (parseInt(box.getAttribute("data-poll"), 10) || 5) * 1000;
    var refresh = function () {
      // A tab in the background asks for nothing; it catches up when shown again.
      if (document.hidden) { setTimeout(refresh, every); return; }
      var url = new URL(window.location.href);
      url.searchParams.set("partial", "1");
      fetch(url.toString(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          // Keep the breakdowns the reader opened or closed as they were.
          var open = Array.prototype.map.call(box.querySelectorAll("details"), function (d) { return d.open; });
          box.innerHTML = html;
          Array.prototype.forEach.call(box.querySelectorAll("details"), function (d, i) {
            if (i < open.length) d.open = open[i];
          });
          setTimeout(refresh, every);
        })
        .catch(function () { setTimeout(refresh, every * 3); });
    };
    setTimeout(refresh, every);
  }

  // --- sending: the audience count as the filters change -----------------------------------------------
  var send = document.getElementById("survey-send");
  if (send) {
    var count = document.getElementById("audience-count");
    var timer = null;
    var update = function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var data = new FormData(send);
        data.delete("csrfmiddlewaretoken");
        var query = new URLSearchParams(data).toString();
        fetch(send.getAttribute("data-count-url") + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
          .then(function (r) {
            count.textContent = r.ok ? count.getAttribute("data-template").replace("%(count)s", r.data.count.toLocaleString()) : r.data.error;
          })
          .catch(function () {});
      }, 400);
    };
    send.addEventListener("input", update);
    send.addEventListener("change", update);
  }

  // --- a question shows the range (numbers) or the choices (one or several) its kind uses --------------
  var kinds = { single: "choices", multiple: "choices", number: "number" };
  Array.prototype.forEach.call(document.querySelectorAll("fieldset.question"), function (question) {
    var select = question.querySelector("select.kind");
    var show = function () {
      var kind = select ? select.value : question.getAttribute("data-kind");
      Array.prototype.forEach.call(question.querySelectorAll("[data-for]"), function (part) {
        part.hidden = part.getAttribute("data-for") !== kinds[kind];
      });
    };
    if (select) select.addEventListener("change", show);
    show();
  });
})();
