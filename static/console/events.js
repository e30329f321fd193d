/* Events: the event page's figures and attendees refresh themselves, the alert page counts its audience as it
   changes, and the venue's city field suggests places from the gazetteer. Every page works without it: the
   figures are then as fresh as the last load, the count is the "Update the count" button's, and a city
   typed in full is found on saving. */
(function () {
  "use strict";
  if (!window.fetch) return;

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // --- the event page: ?partial=1 is the live part alone, swapped in every few seconds ----------------------
  var live = document.getElementById("live");
  if (live) {
    var every = (parseInt(live.getAttribute("data-poll"), 10) || 5) * 1000;
    var refresh = function () {
      // A tab in the background asks for nothing; a teammate pressing a check-in button is not interrupted.
      if (document.hidden || live.contains(document.activeElement) && document.activeElement.tagName === "BUTTON") {
        setTimeout(refresh, every);
        return;
      }
      var url = new URL(window.location.href);
      url.searchParams.set("partial", "1");
      url.hash = "";
      fetch(url.toString(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) { live.innerHTML = html; setTimeout(refresh, every); })
        .catch(function () { setTimeout(refresh, every * 3); });
    };
    setTimeout(refresh, every);
  }

  // --- the alert: the audience count as the choices change ---------------------------------------------------
  var alertForm = document.getElementById("event-alert");
  if (alertForm) {
    var count = document.getElementById("audience-count");
    var update = debounce(function () {
      var data = new FormData(alertForm);
      data.delete("csrfmiddlewaretoken");
      fetch(alertForm.getAttribute("data-count-url") + "?" + new URLSearchParams(data).toString(),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
        .then(function (r) {
          count.textContent = r.ok ? count.getAttribute("data-template").replace("%(count)s", r.data.count.toLocaleString()) : r.data.error;
          count.setAttribute("data-count", r.ok ? r.data.count : "");
        })
        .catch(function () {});
    }, 400);
    alertForm.addEventListener("input", update);
    alertForm.addEventListener("change", update);
    update();
  }

  // --- the venue: the gazetteer's suggestions for the city field ---------------------------------------------
  var place = document.getElementById("id_place");
  var options = document.getElementById("place-options");
  if (place && options) {
    var asked = "";
    var suggest = function (query) {
      asked = query;
      fetch(options.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(query), { credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (place.value.trim() !== query) return;
          if (data.loading) { asked = ""; setTimeout(function () { suggest(query); }, 1000); return; }
          options.textContent = "";
          data.results.forEach(function (found) {
            var option = document.createElement("option");
            option.value = found.label;
            options.appendChild(option);
          });
        })
        .catch(function () {});
    };
    place.addEventListener("input", debounce(function () {
      var query = place.value.trim();
      if (query.length < 2 || query === asked) return;
      suggest(query);
    }, 150));
  }
})();
