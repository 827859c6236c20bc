// Register import run page, while the file is being checked: ask the API for the run's status
// every 2 seconds and reload the page when it has finished. Without JavaScript a
// <meta http-equiv="refresh"> in a <noscript> reloads the page instead (not a script: allowed by
// the Content-Security-Policy).
(function () {
  "use strict";
  var FINISHED = ["applied", "rejected", "failed"];
  function start() {
    var panel = document.querySelector("[data-import-poll]");
    if (!panel || !window.fetch) { return; }
    var url = panel.getAttribute("data-import-poll");
    var failures = 0;
    function poll() {
      window.fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (run) {
          failures = 0;
          if (FINISHED.indexOf(run.status) !== -1) {
            window.location.reload();
            return;
          }
          window.setTimeout(poll, 2000);
        })
        .catch(function () {
          failures += 1;
          window.setTimeout(poll, Math.min(2000 * (failures + 1), 30000));
        });
    }
    window.setTimeout(poll, 2000);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
