// Charts of the analytics dashboard; the data comes from json_script blocks of the page.
(function () {
  if (typeof echarts === "undefined") return;
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : []; }
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var c = echarts.init(el, null, { renderer: "svg" });
    c.setOption(option);
    window.addEventListener("resize", function () { c.resize(); });
  }
  var pareto = data("data-pareto");
  chart("chart-pareto", {
    animation: false, grid: { left: 40, right: 16, top: 16, bottom: 32 }, tooltip: { trigger: "axis" },
    xAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { type: "line", data: pareto, symbolSize: 4, areaStyle: { opacity: 0.15 }, color: "#8a6d3b" },
      { type: "line", data: [[0, 0], [100, 100]], symbol: "none", lineStyle: { type: "dashed", color: "#aaa" } },
      { type: "line", data: [[20, 0], [20, 100]], symbol: "none", lineStyle: { type: "dotted", color: "#c00" } }
    ]
  });
  var clv = data("data-clv");
  chart("chart-clv", {
    animation: false, grid: { left: 48, right: 16, top: 16, bottom: 32 }, tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: clv.map(function (b) { return b.high ? b.low + "–" + b.high : b.low + "+"; }) },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: clv.map(function (b) { return b.n; }), color: "#3b6d8a" }]
  });
  var life = data("data-lifecycle");
  chart("chart-lifecycle", {
    animation: false, grid: { left: 48, right: 16, top: 16, bottom: 32 }, tooltip: { trigger: "axis" },
    xAxis: { type: "category", data: life.map(function (c) { return c.label; }) },
    yAxis: { type: "value" },
    series: [{ type: "bar", data: life.map(function (c) { return c.n; }), color: "#5b8a3b" }]
  });
})();
