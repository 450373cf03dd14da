"use strict";
// Sortable tables: click (or Enter on) a header; numbers sort by data-value, blanks last.
(function () {
  function cellKey(row, col) {
    var cell = row.cells[col];
    var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
    if (raw === "") return null;
    var num = Number(raw);
    return cell.dataset.value !== undefined && !isNaN(num) ? num : raw;
  }
  function sortTable(table, th, col) {
    var first = th.dataset.better === "lower" || th.dataset.type === "text" ? "ascending" : "descending";
    var current = th.getAttribute("aria-sort");
    var dir = current ? (current === "ascending" ? "descending" : "ascending") : first;
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellKey(a, col), y = cellKey(b, col);
      if (x === null || y === null) return x === y ? 0 : (x === null ? 1 : -1);
      var c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return dir === "ascending" ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th").forEach(function (th, col) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortTable(table, th, col); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, th, col); }
      });
    });
  });
  // Gallery: show the selected judge's errors only.
  var select = document.getElementById("gallery-judge");
  if (select) {
    select.addEventListener("change", function () {
      document.querySelectorAll(".gallery-judge").forEach(function (div) {
        div.hidden = div.dataset.judge !== select.value;
      });
    });
  }
})();
