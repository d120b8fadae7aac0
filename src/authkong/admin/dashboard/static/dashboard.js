// AuthKong dashboard: copy buttons and confirmations. Everything works without it
// (the text can be selected by hand; forms submit without asking).
"use strict";

function announce(button, message) {
  const status = button.nextElementSibling;
  if (status && status.classList.contains("copied")) status.textContent = message;
}

function selectText(element) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.dataset.state = "copied";
        announce(button, "Copied.");
      } catch (_error) {
        // No clipboard access (an insecure context or a refused permission): select the
        // text so that Ctrl+C or the context menu copies it.
        selectText(source);
        button.dataset.state = "selected";
        announce(button, "Selected: press Ctrl+C to copy.");
      }
    });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
