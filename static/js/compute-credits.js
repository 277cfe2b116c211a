/* Charts of the credit pages: the account burn-down and the pool's split by sector.
   Data arrives through json_script elements; no inline script, no CDN. */
(function () {
  "use strict";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function numbers(values) {
    return values.map(Number);
  }

  var layout = {
    margin: { t: 20, r: 20, b: 40, l: 70 },
    legend: { orientation: "h", y: -0.2 },
    font: { family: "system-ui, sans-serif" },
  };
  var config = { responsive: true, displaylogo: false };

  var burn = data("burn-down-data");
  if (burn && window.Plotly) {
    var traces = [
      { x: burn.days, y: numbers(burn.allocated), name: "Allocated", mode: "lines", line: { shape: "hv", color: "#12355b" } },
      { x: burn.days, y: numbers(burn.consumed), name: "Consumed", mode: "lines", line: { color: "#8a5300" } },
      { x: burn.days, y: numbers(burn.balance), name: "Balance", mode: "lines", line: { color: "#1e6b34" } },
    ];
    if (burn.forecast.days.length) {
      traces.push({
        x: burn.forecast.days,
        y: numbers(burn.forecast.balance),
        name: "Forecast",
        mode: "lines",
        line: { dash: "dash", color: "#1e6b34" },
      });
    }
    Plotly.newPlot("burn-down-chart", traces, Object.assign({ yaxis: { title: { text: "Credits" } } }, layout), config);
  }

  var split = data("pool-sector-data");
  if (split && window.Plotly) {
    Plotly.newPlot(
      "pool-sector-chart",
      [
        { x: split.sectors, y: numbers(split.allocated), name: "Allocated", type: "bar", marker: { color: "#12355b" } },
        { x: split.sectors, y: numbers(split.consumed), name: "Consumed", type: "bar", marker: { color: "#8a5300", pattern: { shape: "/" } } },
      ],
      Object.assign({ barmode: "group", yaxis: { title: { text: "Credits" } } }, layout),
      config
    );
  }
})();
