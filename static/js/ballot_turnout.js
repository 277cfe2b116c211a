// Turnout per sector of the latest closed ballots, on the ballot list. The figures come from
// the #turnout-data json_script block; the table under the chart is its text alternative.
(function () {
  "use strict";

  var COLOURS = ["#0b57a4", "#8a3ab9", "#1e6b34", "#8a5300"];
  var PATTERNS = ["", "/", ".", "x"];

  function draw() {
    var holder = document.getElementById("turnout-chart");
    var source = document.getElementById("turnout-data");
    if (!holder || !source || !window.Plotly) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var traces = data.sectors.map(function (sector, i) {
      return {
        type: "bar",
        name: sector,
        x: data.ballots,
        y: data.turnout[i],
        marker: { color: COLOURS[i % COLOURS.length], pattern: { shape: PATTERNS[i % PATTERNS.length] } },
        hovertemplate: sector + ": %{y:.0%}<extra>%{x}</extra>",
      };
    });
    window.Plotly.react(
      holder,
      traces,
      {
        barmode: "group",
        height: 360,
        margin: { l: 60, r: 20, t: 10, b: 120 },
        yaxis: { title: { text: "Turnout" }, tickformat: ".0%", range: [0, 1] },
        legend: { orientation: "h", y: 1.12 },
        font: { family: "system-ui, sans-serif", size: 13 },
      },
      { displayModeBar: false, responsive: true }
    );
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
