// Admin helpers without inline handlers (Content-Security-Policy: no 'unsafe-inline' scripts).
// A click in a read-only snippet box selects its text, ready to copy.
document.addEventListener("click", function (event) {
  var box = event.target.closest ? event.target.closest("textarea[data-select-on-click]") : null;
  if (box) box.select();
});
