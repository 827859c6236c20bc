// Draws the server-built plotly figures. Each chart element names, in data-figure, the id of a
// <script type="application/json"> block holding {data, layout} (CSP: no inline script runs).
// Without JavaScript, or if plotly fails, the table under each chart carries the same figures.
(function () {
  "use strict";
  function draw() {
    if (typeof window.Plotly === "undefined") { return; }
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-figure"));
      if (!source) { return; }
      try {
        var figure = JSON.parse(source.textContent);
        window.Plotly.newPlot(element, figure.data || [], figure.layout || {},
          { responsive: true, displayModeBar: false });
      } catch (error) {
        if (window.console) { window.console.error("Chart not drawn", error); }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
