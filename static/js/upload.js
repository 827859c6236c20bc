// Register upload page: progressive enhancement only. Without JavaScript the plain file input
// and the submit button do everything.
//
// The drag-and-drop zone itself is GOV.UK Frontend's enhanced file upload
// (<div class="govuk-drop-zone" data-module="govuk-file-upload">), started by init.js. This file
// adds what that component does not: a file dropped anywhere on the form goes into the input,
// and after submitting the button says the file is uploading (large files take a while).
(function () {
  "use strict";
  function start() {
    var form = document.querySelector("[data-upload-form]");
    if (!form) { return; }
    var input = form.querySelector("input[type=file]");
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector("button[type=submit]");

    // A file dropped on the form but outside the drop zone: put it in the input as well.
    form.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1) {
        event.preventDefault();
      }
    });
    form.addEventListener("drop", function (event) {
      if (!input || !event.dataTransfer || !event.dataTransfer.files.length) { return; }
      if (event.target.closest && event.target.closest(".govuk-drop-zone")) { return; }
      event.preventDefault();
      try {
        input.files = event.dataTransfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      } catch (error) { /* older browsers: the user can still choose the file */ }
    });

    form.addEventListener("submit", function () {
      if (status && input && input.files && input.files.length) {
        status.textContent = "Uploading " + input.files[0].name + ". Keep this page open.";
      }
      if (button) { button.setAttribute("aria-disabled", "true"); }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
