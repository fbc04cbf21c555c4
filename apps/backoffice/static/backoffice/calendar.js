// Calendar (tape chart): pick a range on a row by clicking its first and its last free night; the
// range opens the change form (block, price and stay rules, booking). Without JavaScript the
// "Change the calendar" form does the same.
(function () {
  "use strict";
  function init() {
    var table = document.getElementById("tape-chart");
    if (!table) return;
    var editUrl = table.getAttribute("data-edit-url");
    var anchor = null; // {row, date}

    function clear() {
      table.querySelectorAll("td.bo-selected").forEach(function (td) { td.classList.remove("bo-selected"); });
    }
    function mark(row, from, to) {
      clear();
      row.querySelectorAll("td.bo-night").forEach(function (td) {
        var d = td.getAttribute("data-date");
        if (d >= from && d <= to) td.classList.add("bo-selected");
      });
    }
    table.addEventListener("click", function (event) {
      var td = event.target.closest("td.bo-night");
      if (!td) return;
      var row = td.closest("tr");
      if (row.getAttribute("data-writable") !== "1") return;
      var date = td.getAttribute("data-date");
      if (!anchor || anchor.row !== row) {
        anchor = { row: row, date: date };
        mark(row, date, date);
        return;
      }
      var first = anchor.date < date ? anchor.date : date;
      var last = anchor.date < date ? date : anchor.date;
      mark(row, first, last);
      anchor = null;
      var params = new URLSearchParams({
        property: row.getAttribute("data-property"), first_night: first, last_night: last
      });
      window.location.href = editUrl + "?" + params.toString();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { anchor = null; clear(); }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
