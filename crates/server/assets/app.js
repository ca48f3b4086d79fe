// The console's only script: mute and unmute buttons, an agent's Unblock button. A state-changing request made with the
// session cookie must carry the session's CSRF token (from the page's <meta name="csrf-token">)
// in the X-CSRF-Token header; the server refuses it otherwise.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") : "";
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body || {}),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try { message = JSON.parse(text).error || text; } catch (_) { /* plain text */ }
    throw new Error(message);
  }
  return text;
}

function report(message) {
  const status = document.getElementById("mute-status");
  if (status) { status.textContent = message; }
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.action) { return; }
  event.preventDefault();
  // Every named field of the form is sent (a mute's reason; an unblock's agent and address).
  const body = Object.fromEntries(new FormData(form).entries());
  try {
    await post(form.dataset.action, body);
    window.location.reload();
  } catch (error) {
    report(error.message);
  }
});
