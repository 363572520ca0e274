"use strict";
// The failure view's filters and search. Progressive: without this script every card shows and the
// filter bar stays hidden. No network, no eval, nothing written into the page but `hidden` and a count.
(function () {
  var bar = document.getElementById("filters");
  var cards = Array.prototype.slice.call(document.querySelectorAll("details.card"));
  if (bar && cards.length) {
    var facets = cards.map(function (card) {
      return {
        model: card.dataset.model,
        suite: card.dataset.suite,
        kind: JSON.parse(card.dataset.kinds || "[]"),
        tag: JSON.parse(card.dataset.tags || "[]")
      };
    });
    var selects = Array.prototype.slice.call(bar.querySelectorAll("select[data-filter]"));
    var search = document.getElementById("search");
    var shown = document.getElementById("shown");
    var texts = null;
    var selected = function (value, wanted) {
      return wanted === "" || (Array.isArray(value) ? value.indexOf(wanted) >= 0 : value === wanted);
    };
    var apply = function () {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      if (words.length && texts === null) {
        texts = cards.map(function (card) { return card.textContent.toLowerCase(); });
      }
      var count = 0;
      cards.forEach(function (card, i) {
        var keep = selects.every(function (s) { return selected(facets[i][s.dataset.filter], s.value); }) &&
          words.every(function (word) { return texts[i].indexOf(word) >= 0; });
        card.hidden = !keep;
        count += keep ? 1 : 0;
      });
      shown.textContent = count + " of " + cards.length + " shown";
    };
    selects.forEach(function (s) { s.addEventListener("change", apply); });
    search.addEventListener("input", apply);
    bar.hidden = false;
    apply();
  }
  // A link to a schema in the appendix opens it (and the folded list around it).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("ul.tools a") : null;
    var target = link ? document.getElementById(link.getAttribute("href").slice(1)) : null;
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  });
})();
