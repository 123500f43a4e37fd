// Custodia console: small progressive enhancements. Every page works without it.
(function () {
  "use strict";
  // Ask before submitting a form marked data-confirm (deactivate, revoke…).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var msg = form && form.getAttribute && form.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      ev.preventDefault();
    }
  });
  // Close the navigation menu on phones after a link is chosen.
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest(".menu a");
    var t = document.getElementById("nav-toggle");
    if (a && t) { t.checked = false; }
  });
})();
