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
});
