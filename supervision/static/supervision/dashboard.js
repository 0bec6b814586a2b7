/* Draws the dashboard charts with the vendored ECharts. The numbers are also in the page's
   tables, so without JavaScript (or if the library is missing) nothing is lost. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("dashboard-charts");
    if (!source || !window.echarts) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var palette = ["#114a8b", "#b5361c", "#175a26", "#6b4500", "#52287f", "#3b434b"];
    var charts = [];

    function chart(id, option) {
      var element = document.getElementById(id);
      if (!element) {
        return;
      }
      var instance = window.echarts.init(element, null, { renderer: "svg" });
      option.color = palette;
      option.animation = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      instance.setOption(option);
      charts.push(instance);
    }

    chart("chart-received", {
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 24, bottom: 48 },
      xAxis: { type: "category", data: data.days, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: data.labels.received, type: "line", data: data.received, symbolSize: 6 }]
    });
    var channels = data.channels.filter(function (item) { return item.value > 0; });
    chart("chart-channels", {
      title: channels.length ? undefined : {
        text: data.labels.empty, left: "center", top: "middle",
        textStyle: { color: "#525a63", fontSize: 14, fontWeight: "normal" }
      },
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0, type: "scroll", show: channels.length > 0 },
      series: [{
        name: data.labels.channels,
        type: "pie",
        radius: ["35%", "65%"],
        top: -24,
        label: { formatter: "{b}\n{c}" },
        data: channels
      }]
    });
    chart("chart-open", {
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 24, bottom: 32 },
      xAxis: { type: "category", data: data.states },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: data.labels.open, type: "bar", data: data.open, label: { show: true, position: "top" } }]
    });

    window.addEventListener("resize", function () {
      charts.forEach(function (instance) { instance.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
