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
// 3. The risk preview on the application form: "Update the preview" fetches the saved draft's
//    preview (a fragment rendered and escaped by the server) and shows it in place.
document.addEventListener("DOMContentLoaded", function () {
  var slot = document.getElementById("risk-preview-slot");
  if (!slot) { return; }
  var button = slot.querySelector("[data-preview-load]");
  if (!button) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var shown = slot.querySelector("#risk-preview");
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    status.textContent = slot.getAttribute("data-loading");
    slot.insertBefore(status, button.parentNode);
    fetch(slot.getAttribute("data-preview-url"), { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("#risk-preview");
        if (shown) { shown.remove(); }
        status.remove();
        if (fresh) { slot.insertBefore(fresh, button.parentNode); fresh.focus(); }
      });
  });
});
// 4. A running job's progress: poll its JSON every 2 s, show the fraction and the step, reload when it ends.
document.addEventListener("DOMContentLoaded", function () {
  var panel = document.querySelector("[data-job-progress]");
  if (!panel || !window.fetch) { return; }
  var url = panel.getAttribute("data-job-progress");
  var set = function (selector, text) {
    var el = panel.querySelector(selector);
    if (el) { el.textContent = text; }
  };
  var poll = function () {
    window.fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        if (job.final) { window.location.reload(); return; }
        var bar = panel.querySelector("[data-job-bar]");
        if (bar) { bar.value = job.percent; bar.textContent = job.percent + " %"; }
        set("[data-job-percent]", job.percent + " %");
        set("[data-job-status]", job.status_label);
        set("[data-job-step]", job.step ? ": " + job.step : "");
        set("[data-job-detail]", job.detail);
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  };
  window.setTimeout(poll, 2000);
});
