// foodrisk statistics pages (migration, rankings, warning handling, supervision): draws the charts from the JSON
// element #analytics-chart-data (CSP: no inline script). A click on a chart element opens the list behind it.
(function () {
  "use strict";
  function draw() {
    const source = document.getElementById("analytics-chart-data");
    if (!source || !window.echarts) return;
    const data = JSON.parse(source.textContent);
    const charts = [];
    function chart(id, option, links) {
      const el = document.getElementById(id);
      if (!el) return null;
      const c = echarts.init(el);
      c.setOption(option);
      if (links) {
        c.on("click", (p) => {
          const url = typeof links === "function" ? links(p) : links[p.dataIndex];
          if (url) window.location.assign(url);
        });
      }
      charts.push(c);
      return c;
    }
    function bars(id, b, name) {
      if (!b) return;
      chart(id, {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { top: 10, left: 110, right: 45, bottom: 45 },
        xAxis: { type: "value", name: name, nameLocation: "middle", nameGap: 28, max: 100 },
        yAxis: { type: "category", data: b.names, inverse: true },
        series: [{ type: "bar", name: name, data: b.values, itemStyle: { color: "#ef6c00" },
                   label: { show: true, position: "right", formatter: "{c}%" } }],
      }, b.links);
    }
    const m = data.migration;
    if (m) {
      chart("analytics-migration", {
        tooltip: { position: "top", formatter: (p) => m.y[p.value[1]] + " → " + m.x[p.value[0]] + "：" + p.value[2] },
        grid: { top: 50, left: 90, right: 20, bottom: 70 },
        xAxis: { type: "category", data: m.x, name: m.x_name, nameLocation: "middle", nameGap: 30, position: "top",
                 splitArea: { show: true } },
        yAxis: { type: "category", data: m.y, inverse: true, splitArea: { show: true } },
        visualMap: { min: 0, max: Math.max(1, m.max), calculable: true, orient: "horizontal", left: "center",
                     bottom: 0, inRange: { color: ["#f1f8e9", "#ffb74d", "#c62828"] } },
        series: [{ type: "heatmap", data: m.cells, label: { show: true } }],
      }, m.links);
    }
    bars("analytics-rank-forms", data.forms, data.share_name);
    bars("analytics-rank-categories", data.categories, data.share_name);
    const o = data.organisations;
    if (o) {
      chart("analytics-organisations", {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { data: [o.raised_name, o.late_name], top: 0 },
        grid: { top: 30, left: 50, right: 20, bottom: 60 },
        xAxis: { type: "category", data: o.names, axisLabel: { interval: 0, rotate: o.names.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", name: o.raised_name, data: o.raised, itemStyle: { color: "#1565c0" } },
                 { type: "bar", name: o.late_name, data: o.late, itemStyle: { color: "#c62828" } }],
      }, (p) => (p.seriesIndex === 1 ? o.links[p.dataIndex] : ""));
    }
    const s = data.supervision;
    if (s) {
      const colours = ["#90a4ae", "#1565c0", "#c62828"];
      chart("analytics-supervision", {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        legend: { data: s.series.map((x) => x.name), top: 0 },
        grid: { top: 30, left: 50, right: 20, bottom: 30 },
        xAxis: { type: "category", data: s.grades },
        yAxis: { type: "value" },
        series: s.series.map((x, i) => ({ type: "bar", name: x.name, data: x.values, itemStyle: { color: colours[i] } })),
      }, (p) => s.series[p.seriesIndex].links[p.dataIndex]);
    }
    const q = data.quality;
    if (q) {
      chart("analytics-data-quality", {
        tooltip: { trigger: "axis" },
        legend: { data: [q.rows_name, q.quarantined_name, q.share_name], top: 0 },
        grid: { top: 30, left: 60, right: 50, bottom: 30 },
        xAxis: { type: "category", data: q.months },
        yAxis: [{ type: "value" }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" } }],
        series: [{ type: "bar", name: q.rows_name, data: q.rows, itemStyle: { color: "#1565c0" } },
                 { type: "bar", name: q.quarantined_name, data: q.quarantined, itemStyle: { color: "#c62828" } },
                 { type: "line", name: q.share_name, data: q.share, yAxisIndex: 1, itemStyle: { color: "#ef6c00" } }],
      });
    }
    window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
