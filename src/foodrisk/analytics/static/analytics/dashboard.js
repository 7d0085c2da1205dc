// foodrisk statistics dashboard: draws the charts from the JSON element #analytics-chart-data (CSP: no inline
// script). A click on a heat-map cell opens the enterprise list of exactly those enterprises.
(function () {
  "use strict";
  function draw() {
    const source = document.getElementById("analytics-chart-data");
    if (!source || !window.echarts) return;
    const data = JSON.parse(source.textContent);
    const charts = [];
    function chart(id, option) {
      const el = document.getElementById(id);
      if (!el) return null;
      const c = echarts.init(el);
      c.setOption(option);
      charts.push(c);
      return c;
    }
    chart("analytics-now", {
      tooltip: { trigger: "item" },
      series: [{
        type: "pie", radius: ["40%", "70%"],
        data: data.grades.map((g, i) => ({ name: data.grade_names[i], value: data.now[i],
                                            itemStyle: { color: data.colours[i] } })),
        label: { formatter: (p) => data.grades[p.dataIndex] + "\n" + p.value },
      }],
    });
    chart("analytics-trend", {
      tooltip: { trigger: "axis" },
      legend: { data: data.grade_names, top: 0 },
      grid: { top: 40, left: 50, right: 20, bottom: 30 },
      xAxis: { type: "category", data: data.months },
      yAxis: { type: "value", minInterval: 1, name: data.labels.enterprises },
      series: data.grades.map((g, i) => ({ name: data.grade_names[i], type: "bar", stack: "grades",
                                          data: data.series[g], itemStyle: { color: data.colours[i] } })),
    });
    const heat = chart("analytics-matrix", {
      tooltip: { position: "top", formatter: (p) => data.matrix.regions[p.value[1]] + " · " + data.grades[p.value[0]] + "：" + p.value[2] },
      grid: { top: 10, left: 110, right: 20, bottom: 60 },
      xAxis: { type: "category", data: data.grades, splitArea: { show: true } },
      yAxis: { type: "category", data: data.matrix.regions, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: Math.max(1, data.matrix.max), calculable: true, orient: "horizontal",
                   left: "center", bottom: 0, inRange: { color: ["#f1f8e9", "#ffb74d", "#c62828"] } },
      series: [{ type: "heatmap", data: data.matrix.cells, label: { show: true } }],
    });
    if (heat) {
      heat.on("click", (p) => {
        const url = data.matrix.links[p.dataIndex];
        if (url) window.location.assign(url);
      });
    }
    window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
