// Search over the prebuilt index (titles and words of each statement's current text).
// Without this script the page is the full list of statements, which is still useful.
(function () {
  "use strict";
  var list = document.getElementById("statements");
  var status = document.getElementById("search-status");
  var input = document.getElementById("q");
  if (!list || !window.fetch) return;
  var items = Array.prototype.slice.call(list.children);
  var index = null;
  function terms(q) {
    return q.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(function (t) { return t.length > 0; });
  }
  function apply(q) {
    var want = terms(q);
    var shown = 0;
    items.forEach(function (li) {
      var text = index[li.getAttribute("data-id")] || "";
      var ok = want.every(function (t) { return text.indexOf(t) !== -1; });
      li.hidden = !ok;
      if (ok) shown += 1;
    });
    status.textContent = want.length
      ? shown + " of " + items.length + " statements match \u201c" + q + "\u201d."
      : items.length + " statements, newest first.";
  }
  fetch(list.getAttribute("data-index"))
    .then(function (r) { return r.json(); })
    .then(function (data) {
      index = data;
      var q = new URLSearchParams(window.location.search).get("q") || "";
      input.value = q;
      apply(q);
      input.addEventListener("input", function () { apply(input.value); });
    });
})();
