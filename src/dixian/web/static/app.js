/* dixian web: CSRF for htmx, and charts drawn from JSON blocks in the page.
 * No inline scripts anywhere (the CSP allows scripts from 'self' only). */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every htmx request carries the session's CSRF token (security checklist WEB-02).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  var palette = ["#c23531", "#2f4554", "#61a0a8", "#d48265", "#91c7ae", "#749f83", "#ca8622",
    "#bda29a", "#6e7074", "#546570"];

  function barOption(data) {
    return {
      color: palette,
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 24, bottom: 64 },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", name: data.name || "", data: data.values }]
    };
  }

  function lineOption(data) {
    return {
      color: palette,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 32 },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value" },
      series: data.series.map(function (s) {
        return { type: "line", name: s.name, data: s.values };
      })
    };
  }

  function pieOption(data) {
    return {
      color: palette,
      tooltip: { trigger: "item" },
      series: [{
        type: "pie", radius: ["35%", "65%"],
        data: data.labels.map(function (label, i) { return { name: label, value: data.values[i] }; })
      }]
    };
  }

  function mapOption(data) {
    var max = 1;
    data.values.forEach(function (v) { if (v.value > max) { max = v.value; } });
    return {
      tooltip: { trigger: "item" },
      visualMap: { min: 0, max: max, left: 8, bottom: 8, calculable: true,
        inRange: { color: ["#f2f0e6", "#f4a261", "#c23531"] } },
      series: [{ type: "map", map: data.map, roam: true, nameProperty: data.nameProperty || "name",
        data: data.values }]
    };
  }

  function draw(el) {
    if (typeof echarts === "undefined") { return; }
    var data = readJson(el.getAttribute("data-chart"));
    if (!data) { return; }
    var kind = el.getAttribute("data-kind");
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var finish = function (option) {
      chart.setOption(option);
      el.setAttribute("data-rendered", "true");
      window.addEventListener("resize", function () { chart.resize(); });
    };
    if (kind === "map") {
      fetch(data.geojsonUrl, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (geo) { echarts.registerMap(data.map, geo); finish(mapOption(data)); });
      return;
    }
    finish(kind === "line" ? lineOption(data) : kind === "pie" ? pieOption(data) : barOption(data));
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (!el.getAttribute("data-rendered")) { draw(el); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
