/* Broadcasts: live segment counter, audience count and phone preview while composing; live progress on a
   broadcast's page. Everything here is a nicety: without it the forms' buttons ask the server instead. */
(function () {
  "use strict";
  if (!window.fetch) return;

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json().then(function (data) { return { ok: response.ok, data: data }; }); });
  }

  // --- composing -------------------------------------------------------------------------------------
  var form = document.getElementById("compose");
  if (form) {
    var body = document.getElementById("id_body");
    var counter = document.getElementById("segment-counter");
    var summary = document.getElementById("segment-summary");
    var ucs2 = document.getElementById("segment-ucs2");
    var chars = document.getElementById("segment-chars");
    var replace = document.getElementById("segment-replace");
    var bubble = document.getElementById("phone-bubble");
    var count = document.getElementById("audience-count");
    var gsm7Body = null;

    var updateSegments = debounce(function () {
      getJSON(counter.getAttribute("data-url") + "?body=" + encodeURIComponent(body.value)).then(function (r) {
        if (!r.ok) return;
        var d = r.data;
        summary.textContent = d.summary;
        chars.textContent = "";
        d.non_gsm.forEach(function (c) {
          var li = document.createElement("li");
          li.textContent = c.char + " " + c.name + (c.replacement !== null ? " → " + (c.replacement || "∅") : "");
          chars.appendChild(li);
        });
        ucs2.hidden = d.non_gsm.length === 0;
        gsm7Body = d.gsm7_body;
        replace.hidden = !gsm7Body;
      }).catch(function () {});
    }, 250);

    function updatePreview() {
      bubble.textContent = body.value.replace(/\{first_name\}/g, bubble.getAttribute("data-name") || "Maya").replace(/\{(name|city)\}/g, "");
    }

    var updateCount = debounce(function () {
      var data = new FormData(form);
      data.delete("csrfmiddlewaretoken");
      var query = new URLSearchParams(data).toString();
      getJSON(form.getAttribute("data-count-url") + "?" + query).then(function (r) {
        count.textContent = r.ok ? count.getAttribute("data-template").replace("%(count)s", r.data.count) : r.data.error;
        count.setAttribute("data-count", r.ok ? r.data.count : "");
      }).catch(function () {});
    }, 400);

    bubble.setAttribute("data-name", "Maya");
    body.addEventListener("input", function () { updateSegments(); updatePreview(); });
    replace.addEventListener("click", function () {
      if (gsm7Body !== null) { body.value = gsm7Body; updateSegments(); updatePreview(); }
    });
    form.addEventListener("input", function (event) { if (event.target !== body) updateCount(); });
    form.addEventListener("change", function (event) { if (event.target !== body) updateCount(); });
    // Text already in the box when the script starts (the browser restored it, or it was typed before this
    // deferred script ran) gets its counts now: no input event will come for it.
    if (body.value) { updateSegments(); updatePreview(); }
    // An audience filled in by a link (a segment made in listening): count it at once.
    if (form.hasAttribute("data-preset")) updateCount();

    // City type-ahead: the gazetteer's suggestions in a datalist; a chosen one is added to the cities list.
    var search = document.getElementById("city-search");
    var list = document.getElementById("city-options");
    var cities = document.getElementById("id_cities");
    var asked = "";
    function isSuggestion(value) {
      for (var i = 0; i < list.options.length; i++) if (list.options[i].value === value) return true;
      return false;
    }
    function suggest(query) {
      asked = query;
      fetch(search.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(query), { credentials: "omit" })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          if (search.value.trim() !== query) return;
          if (data.loading) {  // the server is still loading its list of cities: ask again shortly
            asked = "";
            setTimeout(function () { suggest(query); }, 1000);
            return;
          }
          list.textContent = "";
          data.results.forEach(function (place) {
            var option = document.createElement("option");
            option.value = place.label;
            list.appendChild(option);
          });
        }).catch(function () {});
    }
    search.addEventListener("input", debounce(function () {
      var query = search.value.trim();
      if (isSuggestion(query)) {
        cities.value = (cities.value.trim() ? cities.value.trim() + "\n" : "") + query;
        search.value = "";
        updateCount();
        return;
      }
      if (query.length < 2 || query === asked) return;
      suggest(query);
    }, 150));
    updateCount();
  }

  // --- progress --------------------------------------------------------------------------------------
  var progress = document.getElementById("progress");
  if (progress && progress.getAttribute("data-over") !== "1") {
    var every = (parseInt(progress.getAttribute("data-poll"), 10) || 3) * 1000;
    var poll = function () {
      getJSON(progress.getAttribute("data-url")).then(function (r) {
        if (!r.ok) return;
        var d = r.data;
        progress.querySelectorAll("[data-key]").forEach(function (node) {
          node.textContent = d[node.getAttribute("data-key")];
        });
        document.getElementById("progress-status").textContent = d.status_label;
        var held = document.getElementById("progress-held");
        held.textContent = d.held;
        held.hidden = !d.held;
        var bar = progress.querySelector(".progress");
        bar.setAttribute("aria-valuenow", d.percent_sent);
        progress.querySelector(".progress-sent").style.width = d.percent_sent + "%";
        progress.querySelector(".progress-delivered").style.width = d.percent_delivered + "%";
        if (!d.is_over) setTimeout(poll, every);
        else { var cancel = document.getElementById("cancel-link"); if (cancel) cancel.hidden = true; }
      }).catch(function () { setTimeout(poll, every * 2); });
    };
    setTimeout(poll, every);
  }
})();
