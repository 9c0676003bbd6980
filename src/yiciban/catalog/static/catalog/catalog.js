/* Catalogue pages: a "print" button where JavaScript runs (without it, the browser's own
   print command prints the same page with the print stylesheet). */
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) { window.print(); }
});
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) { button.hidden = false; });
});
