// The admin panel's conveniences. Every form works without this script (plain posts, answered by a redirect back);
// with it, a destructive action asks first and the audit filters narrow the table as you type.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  function filter(form) {
    var table = document.getElementById(form.getAttribute("data-filter-table"));
    if (!table) return;
    var fields = form.querySelectorAll("[data-filter-column]");
    var rows = table.tBodies[0] ? table.tBodies[0].rows : [];
    for (var i = 0; i < rows.length; i++) {
      var show = true;
      for (var j = 0; j < fields.length; j++) {
        var wanted = fields[j].value.trim().toLowerCase();
        if (!wanted) continue;
        var cell = rows[i].cells[Number(fields[j].getAttribute("data-filter-column"))];
        var have = cell ? cell.textContent.trim().toLowerCase() : "";
        if (fields[j].tagName === "SELECT" ? have !== wanted : have.indexOf(wanted) === -1) show = false;
      }
      rows[i].hidden = !show;
    }
  }
  document.addEventListener("input", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-filter-table")) filter(form);
  });
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-filter-table")) filter(form);
  });
})();
