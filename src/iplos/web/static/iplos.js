// iplos pages work without JavaScript; this only adds conveniences.
// 1. A "coarsened" decision needs a level: enable the level list only when that outcome is chosen.
// 2. Forms with data-confirm ask before they are sent.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-outcome-row]").forEach(function (row) {
    var level = row.querySelector("select[data-level]");
    if (!level) { return; }
    var update = function () {
      var chosen = row.querySelector("input[type=radio]:checked");
      level.disabled = !(chosen && chosen.value === "coarsened");
    };
    row.querySelectorAll("input[type=radio]").forEach(function (r) { r.addEventListener("change", update); });
    update();
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
});
