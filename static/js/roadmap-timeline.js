// The roadmap timeline: draws the plotly Gantt figure the server built (passed with
// json_script), again after htmx swaps in filtered results, and opens a milestone when its
// marker is selected.
(function () {
  "use strict";

  // On a phone the rows' labels ("initiative · milestone") would take the whole width and be
  // cut at its edge: there the label is the milestone's title alone, shortened; the hover text
  // and the table below give the rest.
  var narrow = window.matchMedia("(max-width: 700px)");
  var PHONE_LABEL = 22;

  function phoneLabels(axis) {
    if (!axis || !axis.ticktext) {
      return;
    }
    axis.ticktext = axis.ticktext.map(function (label) {
      var title = label.split(" · ").pop();
      return title.length <= PHONE_LABEL ? title : title.slice(0, PHONE_LABEL - 1) + "…";
    });
  }

  function draw() {
    var holder = document.getElementById("roadmap-gantt");
    var source = document.getElementById("timeline-figure");
    if (!holder || !source || !window.Plotly) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    if (narrow.matches) {
      phoneLabels(figure.layout.yaxis);
    }
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
  // Turning a phone to landscape (or back) crosses the width: the labels follow.
  narrow.addEventListener("change", draw);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "timeline-results") {
      draw();
    }
  });
})();
