// Progressive enhancement for TSM pages (the CSP forbids inline script).
// Print buttons appear only when JavaScript can print; "saves by itself" notes appear only
// when htmx is there to save; the Save buttons stay for keyboard users and as a fallback.
document.querySelectorAll('.app-print-button').forEach(function (button) {
  button.hidden = false
  button.addEventListener('click', function () { window.print() })
})
if (window.htmx) {
  document.querySelectorAll('.app-js-only').forEach(function (el) { el.hidden = false })
  document.querySelectorAll('.app-nojs-only').forEach(function (el) { el.hidden = true })
}
