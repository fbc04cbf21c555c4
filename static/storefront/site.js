/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // Language picker: submit on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  // Hold countdown on the payment step.
  var timer = document.querySelector("[data-countdown]");
  if (timer) {
    var left = parseInt(timer.getAttribute("data-countdown"), 10);
    var out = timer.querySelector("[data-countdown-text]");
    var tick = function () {
      if (left <= 0) { window.location.reload(); return; }
      var m = Math.floor(left / 60), s = left % 60;
      out.textContent = m + ":" + (s < 10 ? "0" : "") + s + " " + (timer.getAttribute("data-left-label") || "");
      if (left <= 120) { timer.classList.add("hold-urgent"); }
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  }

  // Print button.
  document.querySelectorAll("[data-print]").forEach(function (el) {
    el.addEventListener("click", function (ev) { ev.preventDefault(); window.print(); });
  });

  // Card number: group digits in fours while typing.
  var card = document.getElementById("id_card_number");
  if (card) {
    card.addEventListener("input", function () {
      var digits = card.value.replace(/\D/g, "").slice(0, 19);
      card.value = digits.replace(/(.{4})/g, "$1 ").trim();
    });
  }

  // Stop double submits (a second click would race the first).
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var btn = form.querySelector("button[type=submit]");
      if (btn) { window.setTimeout(function () { btn.disabled = true; }, 0); }
    });
  });
})();
