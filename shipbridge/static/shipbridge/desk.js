/* ShipBridge's admin pages: small helpers, no dependencies. */
document.addEventListener("DOMContentLoaded", function () {
  // A carrier chosen from the list: its "Other" name field shows only with "Other".
  document.querySelectorAll("select[name=carrier]").forEach(function (select) {
    var row = select.form && select.form.querySelector(".field-carrier_other");
    if (!row) return;
    var sync = function () { row.hidden = select.value !== "Other"; };
    select.addEventListener("change", sync);
    sync();
  });
  // Tracking numbers typed or scanned one after the other (a keyboard-wedge scanner ends each
  // with Enter): Enter moves to the next one instead of sending the form.
  var scans = Array.prototype.slice.call(document.querySelectorAll("input.sb-scan"));
  scans.forEach(function (input, index) {
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      var next = scans[index + 1];
      if (next) { next.focus(); next.select(); }
      else if (input.form) { var submit = input.form.querySelector("input[type=submit].default"); if (submit) submit.focus(); }
    });
  });
  if (scans.length && !document.querySelector(".errornote, .errorlist")) scans[0].focus();
});
