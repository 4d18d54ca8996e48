// The audit page's CSV export forms: the ticket number or customer id goes into the path.
// (A file of its own: the Content-Security-Policy allows no inline script.)
(function () {
  "use strict";
  document.querySelectorAll("form.export").forEach(function (form) {
    form.addEventListener("submit", function () {
      var value = form.elements[form.dataset.field].value.trim();
      form.action = form.dataset.prefix + encodeURIComponent(value) + "/audit.csv";
    });
  });
})();
