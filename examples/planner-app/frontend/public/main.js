// Shows the version the backend reports (the health contract: GET /api/health → { status, version }).
/* global document, fetch */
const target = document.getElementById('version');
/** @param {string} text */
const show = (text) => {
  if (target) target.textContent = `version: ${text}`;
};
fetch('/api/health')
  .then((res) => res.json())
  .then((health) => show(String(health.version)))
  .catch(() => show('unavailable'));
