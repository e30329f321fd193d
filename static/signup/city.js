/* City type-ahead: fills the <datalist> of the city field from /places/suggest. Without it, the typed city
   is resolved on submit, so this only makes the page nicer. */
(function () {
  "use strict";
  var input = document.getElementById("id_city");
  var list = document.getElementById("city-options");
  if (!input || !list || !window.fetch) return;
  var url = input.getAttribute("data-suggest-url");
  var country = input.getAttribute("data-country") || "";
  var timer = null, asked = "", controller = null;

  function isSuggestion(value) {
    for (var i = 0; i < list.options.length; i++) if (list.options[i].value === value) return true;
    return false;
  }

  function ask(query) {
    asked = query;
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    fetch(url + "?q=" + encodeURIComponent(query) + "&country=" + encodeURIComponent(country), {
      credentials: "omit",
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        if (input.value.trim() !== query) return;
        if (data.loading) {  // the server is still loading its list of cities: ask again shortly
          asked = "";
          timer = setTimeout(function () { ask(query); }, 1000);
          return;
        }
        list.textContent = "";
        data.results.forEach(function (place) {
          var option = document.createElement("option");
          option.value = place.label;
          list.appendChild(option);
        });
      })
      .catch(function () {});
  }

  input.addEventListener("input", function () {
    var query = input.value.trim();
    clearTimeout(timer);
    if (query.length < 2 || query === asked || isSuggestion(query)) return;
    timer = setTimeout(function () { ask(query); }, 120);
  });
})();
