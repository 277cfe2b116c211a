// The ballot page's live per-sector tally chart. The figures come from the #tally-data
// json_script block inside the htmx-polled panel; each time htmx swaps the panel in, the
// chart is redrawn in place with Plotly.react (the table beside it is the text alternative).
(function () {
  "use strict";

  var COLOURS = { yes: "#1e6b34", no: "#a3161b", abstain: "#4a5562", not_voted: "#c9d1da" };
  // Patterns as well as colours, so the series can be told apart without colour vision.
  var PATTERNS = { yes: "", no: "/", abstain: ".", not_voted: "x" };
  var LABELS = { yes: "Yes", no: "No", abstain: "Abstain", not_voted: "Not voted" };

  function draw() {
    var holder = document.getElementById("tally-chart");
    var source = document.getElementById("tally-data");
    if (!holder || !source || !window.Plotly) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var traces = ["yes", "no", "abstain", "not_voted"].map(function (key) {
      return {
        type: "bar",
        orientation: "h",
        name: LABELS[key],
        y: data.sectors,
        x: data[key],
        marker: { color: COLOURS[key], pattern: { shape: PATTERNS[key] } },
        hovertemplate: "%{y}: %{x} " + LABELS[key].toLowerCase() + "<extra></extra>",
      };
    });
    var annotations = data.sectors.map(function (sector, i) {
      return {
        xref: "paper",
        x: 1,
        y: sector,
        xanchor: "left",
        showarrow: false,
        text: "support " + Math.round(data.support[i] * 100) + " %",
      };
    });
    var layout = {
      barmode: "stack",
      height: 120 + 70 * data.sectors.length,
      margin: { l: 70, r: 110, t: 40, b: 50 },
      xaxis: { title: { text: "Eligible members" }, dtick: 1, rangemode: "tozero" },
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", traceorder: "normal" },
      annotations: annotations,
      font: { family: "system-ui, sans-serif", size: 14 },
    };
    window.Plotly.react(holder, traces, layout, { displayModeBar: false, responsive: true });
  }

  document.addEventListener("DOMContentLoaded", draw);
  // htmx replaces the whole panel (outerHTML), so redraw after any settle: it is cheap.
  document.body.addEventListener("htmx:afterSettle", draw);
})();
