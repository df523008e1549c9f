// Page behaviour the reader relies on (see custom.css):
// - a table wider than its column says so ("scroll sideways") instead of hiding columns;
// - every figure opens at full size on a click.
(function () {
  "use strict";

  function markScrollingTables() {
    document.querySelectorAll(".bd-article table").forEach(function (table) {
      var cue = table.previousElementSibling;
      var hasCue = cue !== null && cue.classList.contains("table-scroll-cue");
      var scrolls = table.scrollWidth > table.clientWidth + 1;
      table.classList.toggle("table-scrolls", scrolls);
      if (scrolls && !hasCue) {
        cue = document.createElement("p");
        cue.className = "table-scroll-cue";
        cue.textContent = "\u2194 This table is wider than the screen: scroll it sideways.";
        table.parentNode.insertBefore(cue, table);
      } else if (!scrolls && hasCue) {
        cue.remove();
      }
    });
  }

  function linkFullSizeImages() {
    var images = document.querySelectorAll(".bd-article figure img, .bd-article .cell_output img");
    images.forEach(function (image) {
      if (image.closest("a") !== null) {
        return;
      }
      var link = document.createElement("a");
      link.href = image.currentSrc || image.src;
      link.className = "image-full-size";
      link.title = "Open the full-size image";
      link.target = "_blank";
      link.rel = "noopener";
      image.parentNode.insertBefore(link, image);
      link.appendChild(image);
    });
  }

  function onReady() {
    linkFullSizeImages();
    markScrollingTables();
    window.addEventListener("resize", markScrollingTables);
    // Web fonts and MathJax change the widths of tables after the first layout.
    window.addEventListener("load", function () {
      markScrollingTables();
      var mathjax = window.MathJax;
      if (mathjax && mathjax.startup && mathjax.startup.promise) {
        mathjax.startup.promise.then(markScrollingTables);
      }
    });
    [500, 1500, 4000].forEach(function (delay) {
      window.setTimeout(markScrollingTables, delay);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", onReady);
  } else {
    onReady();
  }
})();
