// The district form's city picker: the gazetteer's suggestions (the signup page's type-ahead) in a datalist;
// picking one adds its label as a line of the cities list, which resolves back to that place on save.
// Without this script the list is typed by hand and works the same.
(function () {
  "use strict";
  var search = document.getElementById("city-search");
  var list = document.getElementById("city-options");
  var places = document.getElementById("id_places");
  if (!search || !list || !places) return;
  var asked = "";
  var timer = null;

  function offered(value) {
    return Array.prototype.some.call(list.options, function (option) { return option.value === value; });
  }

  function suggest(query) {
    asked = query;
    fetch(search.getAttribute("data-suggest-url") + "?q=" + encodeURIComponent(query), { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        if (search.value.trim() !== query) return;
        if (data.loading) {  // the server is still building its city index: ask again in a second
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
      })
      .catch(function () {});
  }

  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = search.value.trim();
      if (offered(query)) {
        places.value = (places.value.trim() ? places.value.trim() + "\n" : "") + query;
        search.value = "";
        return;
      }
      if (query.length >= 2 && query !== asked) suggest(query);
    }, 150);
  });
})();
