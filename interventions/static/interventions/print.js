// "Print this page" link on the court chronology (no inline scripts: the CSP forbids them).
document.querySelectorAll("[data-print]").forEach(function (link) {
  link.addEventListener("click", function (event) {
    event.preventDefault();
    window.print();
  });
});
