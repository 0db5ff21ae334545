/* The packing page: every scan checked against the order's lines as it comes. A keyboard-wedge
   scanner types the code and Enter; nothing needs a mouse. */
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("pack-form");
  if (!form) return;
  var lines = JSON.parse(document.getElementById("pack-codes").textContent);
  var input = document.getElementById("scan-item");
  var feedback = document.getElementById("scan-feedback");
  var shipBox = document.getElementById("pack-ship");
  var rows = {};
  lines.forEach(function (line) {
    var row = document.getElementById("pack-line-" + line.line);
    rows[line.line] = {row: row, hidden: row.querySelector("input[type=hidden]"), count: row.querySelector(".sb-scanned"),
                       bar: row.querySelector("progress")};
  });
  function scanned(line) { return parseInt(rows[line.line].hidden.value, 10) || 0; }
  function beep(bad) {
    try {
      var ctx = new (window.AudioContext || window.webkitAudioContext)();
      var osc = ctx.createOscillator();
      osc.frequency.value = bad ? 220 : 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + (bad ? 0.45 : 0.08));
    } catch (e) { /* no sound: the page still says it */ }
  }
  function say(text, kind) {
    feedback.textContent = text;
    feedback.className = "sb-feedback sb-feedback-" + kind;
    if (kind !== "ok") {
      document.body.classList.remove("sb-flash");
      void document.body.offsetWidth;
      document.body.classList.add("sb-flash");
    }
    beep(kind !== "ok");
  }
  function complete() {
    return lines.every(function (line) { return scanned(line) >= line.remaining; });
  }
  function showShip() {
    shipBox.hidden = false;
    var carrier = form.querySelector("select[name=carrier]");
    var remembered = window.localStorage && localStorage.getItem("shipbridge.carrier");
    if (carrier && !carrier.value && remembered) carrier.value = remembered;
    var next = carrier && !carrier.value ? carrier : form.querySelector("input[name=tracking_number]");
    if (next) next.focus();
  }
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    var code = input.value.trim().toUpperCase();
    input.value = "";
    if (!code) return;
    var matching = lines.filter(function (line) { return line.codes.indexOf(code) !== -1; });
    if (!matching.length) {
      say(feedback.dataset.wrong.replace("%s", code), "wrong");
      return;
    }
    var open = matching.filter(function (line) { return scanned(line) < line.remaining; });
    if (!open.length) {
      say(feedback.dataset.extra.replace("%s", matching[0].label), "extra");
      return;
    }
    var line = open[0], parts = rows[line.line], count = scanned(line) + 1;
    parts.hidden.value = count;
    parts.count.textContent = count;
    parts.bar.value = count;
    parts.row.classList.toggle("sb-line-done", count >= line.remaining);
    say(line.label + " " + count + " / " + line.remaining, "ok");
    if (complete()) {
      say(feedback.dataset.done, "ok");
      showShip();
    }
  });
  form.addEventListener("submit", function () {
    var carrier = form.querySelector("select[name=carrier]");
    if (carrier && carrier.value && window.localStorage) localStorage.setItem("shipbridge.carrier", carrier.value);
  });
  if (complete() && lines.length) showShip();
});
