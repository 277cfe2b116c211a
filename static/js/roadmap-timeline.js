// The roadmap timeline: draws the plotly Gantt figure the server built (passed with
// json_script), again after htmx swaps in filtered results, and opens a milestone when its
// marker is selected.
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("roadmap-gantt");
    var source = document.getElementById("timeline-figure");
    if (!holder || !source || !window.Plotly) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(holder, figure.data, figure.layout, {
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d"],
    }).then(function () {
      holder.dataset.drawn = "true";
    });
    holder.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (point && typeof point.customdata === "string") {
        window.location.assign(point.customdata);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "timeline-results") {
      draw();
    }
  });
})();
