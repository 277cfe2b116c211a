/* Charts of the metrics dashboards (compute app). The page embeds each chart's data with
   json_script; this draws it with plotly.js served from this site. Missing values arrive as
   null and are drawn as gaps (connectgaps: false), never as zero. */
(function () {
  "use strict";

  var COLOURS = ["#0b57a4", "#8a3ab9", "#1e6b34", "#a3161b", "#8a5300", "#12355b", "#4a5562", "#b3005e"];

  function layout(el, extra) {
    var base = {
      title: { text: el.dataset.title, font: { size: 16 } },
      margin: { l: 60, r: 20, t: 50, b: 50 },
      xaxis: { title: { text: "Time (UTC)" }, type: "date" },
      yaxis: { title: { text: el.dataset.unit || "" }, rangemode: "tozero" },
      legend: { orientation: "h", y: -0.2 },
      hovermode: "x unified"
    };
    return Object.assign(base, extra || {});
  }

  function data(el) {
    var node = document.getElementById(el.dataset.source);
    return node ? JSON.parse(node.textContent) : null;
  }

  function seriesChart(el) {
    var payload = data(el);
    if (!payload) { return; }
    var traces = payload.series.map(function (s, i) {
      return {
        type: "scatter", mode: "lines", name: s.resource_name,
        x: payload.times, y: s.values, connectgaps: false,
        line: { color: COLOURS[i % COLOURS.length], width: 2, dash: i >= COLOURS.length ? "dot" : "solid" },
        hovertemplate: "%{y:.1f} " + (payload.unit || "") + "<extra>" + s.resource_name + "</extra>"
      };
    });
    Plotly.newPlot(el, traces, layout(el), { responsive: true, displaylogo: false });
  }

  function stackedChart(el) {
    var payload = data(el);
    if (!payload) { return; }
    var traces = payload.series.map(function (s, i) {
      return { type: "bar", name: s.name, x: s.times, y: s.values, marker: { color: COLOURS[i % COLOURS.length] } };
    });
    Plotly.newPlot(el, traces, layout(el, { barmode: "stack" }), { responsive: true, displaylogo: false });
  }

  function trendChart(el) {
    var payload = data(el);
    if (!payload) { return; }
    var traces = payload.map(function (s, i) {
      return {
        type: "scatter", mode: "lines+markers", name: s.name, x: s.times, y: s.values, connectgaps: false,
        line: { color: COLOURS[i % COLOURS.length] },
        /* Scans older than the stale age are drawn hollow, and named so in the hover text. */
        marker: { size: 9, symbol: s.stale.map(function (old) { return old ? "circle-open" : "circle"; }) },
        text: s.stale.map(function (old) { return old ? "stale" : "current"; }),
        hovertemplate: "%{y} (%{text})<extra>" + s.name + "</extra>"
      };
    });
    Plotly.newPlot(el, traces, layout(el, { hovermode: "closest" }), { responsive: true, displaylogo: false });
  }

  var DRAW = { series: seriesChart, stacked: stackedChart, trend: trendChart };

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var draw = DRAW[el.dataset.chart];
      if (draw) { draw(el); }
    });
  });
})();
