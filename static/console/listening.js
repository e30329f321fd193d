// The matrix refreshes itself: every few seconds the same page is asked for its table alone (?partial=1) and
// the table is swapped in. Without JavaScript the page still works; it is then as fresh as its last load.
(function () {
  var box = document.getElementById("matrix");
  if (!box || !window.fetch) return;
  var every = (parseInt(box.getAttribute("data-poll"), 10) || 5) * 1000;
  var refresh = function () {
    // A tab in the background asks for nothing; it catches up when shown again.
    if (document.hidden) { setTimeout(refresh, every); return; }
    var url = new URL(window.location.href);
    url.searchParams.set("partial", "1");
    fetch(url.toString(), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) { box.innerHTML = html; setTimeout(refresh, every); })
      .catch(function () { setTimeout(refresh, every * 3); });
  };
  setTimeout(refresh, every);
})();
