// FOSS Registry pages: keyboard moves in the review queue (j/k, Enter opens the entry).
(function () {
  "use strict";
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    if (event.key !== "j" && event.key !== "k") return;
    var links = Array.prototype.slice.call(document.querySelectorAll("#queue a.entry"));
    if (!links.length) return;
    var index = links.indexOf(document.activeElement);
    if (index < 0) index = event.key === "j" ? 0 : links.length - 1;
    else index = Math.max(0, Math.min(links.length - 1, index + (event.key === "j" ? 1 : -1)));
    links.forEach(function (link) { link.closest("tr").classList.remove("current"); });
    links[index].closest("tr").classList.add("current");
    links[index].focus();
    event.preventDefault();
  });
})();
