/* Charts of the metrics dashboards (compute app). The page embeds each chart's data with
   json_script; this draws it with plotly.js served from this site. Missing values arrive as
   null and are drawn as gaps (connectgaps: false), never as zero; the server sends only series
   that have data, so the legend lists only lines that are drawn. The legend sits below the
   x-axis title (in the container's margin, which plotly grows to fit), never over it. */
(function () {
  "use strict";

  var COLOURS = ["#0b57a4", "#8a3ab9", "#1e6b34", "#a3161b", "#8a5300", "#12355b", "#4a5562", "#b3005e"];
  var CONFIG = { responsive: true, displaylogo: false };

  function layout(el, extra) {
    var base = {
      title: { text: el.dataset.title, font: { size: 16 } },
      margin: { l: 60, r: 20, t: 50, b: 20 },
      xaxis: { title: { text: "Time (UTC)", standoff: 8 }, type: "date", automargin: true },
      yaxis: { title: { text: el.dataset.unit || "" }, rangemode: "tozero", automargin: true },
      // Below the plot and its axis title: anchored to the bottom of the whole figure.
      legend: { orientation: "h", x: 0, xanchor: "left", y: 0, yanchor: "bottom", yref: "container" },
      hovermode: "x unified"
    };
    return Object.assign(base, extra || {});
  }

  function data(el) {
    var node = document.getElementById(el.dataset.source);
    return node ? JSON.parse(node.textContent) : null;
  }

  function slots(payload) {
    var first = Date.parse(payload.first);
    var times = [];
    for (var i = 0; i < payload.slots; i++) { times.push(new Date(first + i * payload.step * 1000).toISOString()); }
    return times;
  }

  function seriesChart(el) {
    var payload = data(el);
    if (!payload || !payload.series.length) { return; }
    var times = slots(payload);
    var traces = payload.series.map(function (s, i) {
      return {
        type: "scatter", mode: "lines", name: s.resource_name,
        x: times, y: s.values, connectgaps: false,
        line: { color: COLOURS[i % COLOURS.length], width: 2, dash: i >= COLOURS.length ? "dot" : "solid" },
        hovertemplate: "%{y:.1f} " + (payload.unit || "") + "<extra>" + s.resource_name + "</extra>"
      };
    });
    Plotly.newPlot(el, traces, layout(el, { showlegend: true }), CONFIG);
  }

  function stackedChart(el) {
    var payload = data(el);
    if (!payload) { return; }
    var traces = payload.series.map(function (s, i) {
      return { type: "bar", name: s.name, x: s.times, y: s.values, marker: { color: COLOURS[i % COLOURS.length] } };
    });
    Plotly.newPlot(el, traces, layout(el, { barmode: "stack", showlegend: true }), CONFIG);
  }

  /* One small chart of one resource (small multiples): its scanners' series share the y range
     of every other resource's chart, so the charts compare at a glance. */
  function trendChart(el) {
    var payload = data(el);
    if (!payload) { return; }
    var SYMBOLS = ["circle", "diamond", "square"];
    var traces = payload.traces.map(function (s, i) {
      return {
        type: "scatter", mode: "lines+markers", name: s.name, x: s.times, y: s.values, connectgaps: false,
        line: { color: COLOURS[i % COLOURS.length], dash: i ? "dash" : "solid" },
        /* Scans older than the stale age are drawn hollow, and named so in the hover text. */
        marker: {
          size: 7,
          symbol: s.stale.map(function (old) { return SYMBOLS[i % SYMBOLS.length] + (old ? "-open" : ""); })
        },
        text: s.stale.map(function (old) { return old ? "stale" : "current"; }),
        hovertemplate: "%{y} (%{text})<extra>" + s.name + "</extra>"
      };
    });
    Plotly.newPlot(el, traces, {
      title: { text: el.dataset.title, font: { size: 14 } },
      margin: { l: 40, r: 10, t: 36, b: 10 },
      height: 240,
      xaxis: { type: "date", automargin: true, range: payload.range },
      yaxis: { range: [0, payload.ymax], automargin: true, title: { text: el.dataset.unit || "" } },
      legend: { orientation: "h", x: 0, y: 0, yanchor: "bottom", yref: "container" },
      showlegend: true,
      hovermode: "closest"
    }, CONFIG);
  }

  var DRAW = { series: seriesChart, stacked: stackedChart, trend: trendChart };

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof Plotly === "undefined") { return; }
    var charts = Array.prototype.slice.call(document.querySelectorAll("[data-chart]"));
    // One chart per frame: the first is painted, and the page answers input, while the others
    // are still to draw (all of them in one task kept the screen blank until the last was done).
    function next() {
      var el = charts.shift();
      if (!el) { return; }
      var draw = DRAW[el.dataset.chart];
      if (draw) { draw(el); }
      if (charts.length) { requestAnimationFrame(function () { setTimeout(next, 0); }); }
    }
    next();
  });
})();
