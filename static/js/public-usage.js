// The public usage page's chart: credits per month, one bar series per lead sector, from the
// #usage-data json_script block (the table beside it is the text alternative).
(function () {
  "use strict";

  var COLOURS = ["#1f4e79", "#a3541b", "#4a5562"];
  var PATTERNS = ["", "/", "."];

  function draw() {
    var holder = document.getElementById("usage-chart");
    var source = document.getElementById("usage-data");
    if (!holder || !source || !window.Plotly) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var traces = data.series.map(function (series, i) {
      return {
        type: "bar",
        name: series.name + " sector",
        x: data.months,
        y: series.values,
        marker: { color: COLOURS[i % COLOURS.length], pattern: { shape: PATTERNS[i % PATTERNS.length] } },
        hovertemplate: "%{x}: %{y:,.0f} credits<extra>" + series.name + "</extra>",
      };
    });
    var layout = {
      barmode: "stack",
      height: 320,
      margin: { l: 70, r: 20, t: 40, b: 50 },
      yaxis: { title: { text: "Credits" }, rangemode: "tozero" },
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      font: { family: "system-ui, sans-serif", size: 14 },
    };
    window.Plotly.react(holder, traces, layout, { displayModeBar: false, responsive: true });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
