// Draws each chart from the table it stands for (Chart.js, served from this site). Without
// JavaScript, or without the library, the tables alone carry the figures.
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var colours = ["#9b1c1c", "#1f4f99", "#1d5e2a", "#7a4b00"];
  document.querySelectorAll("canvas[data-table]").forEach(function (canvas) {
    var table = document.getElementById(canvas.getAttribute("data-table"));
    if (!table) { return; }
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr")).filter(function (row) {
      return row.querySelector("th[scope=row]");
    });
    var labels = rows.map(function (row) { return row.querySelector("th").textContent.trim(); });
    var datasets = canvas.getAttribute("data-series").split(",").map(function (key, i) {
      var head = table.querySelector('thead th[data-key="' + key + '"]');
      return {
        label: head ? head.textContent.trim() : key,
        backgroundColor: colours[i % colours.length],
        data: rows.map(function (row) {
          var cell = row.querySelector('td[data-key="' + key + '"]');
          return cell ? Number(cell.getAttribute("data-value") || 0) : 0;
        })
      };
    });
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    canvas.setAttribute("data-drawn", "true");
  });
})();
