// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-select-all]")) {
    const form = box.getAttribute("data-select-all");
    box.addEventListener("change", () => {
      for (const c of document.querySelectorAll(`input.sel[form="${form}"]`)) c.checked = box.checked;
    });
  }
  // One click, one request: a form that changes something is sent once, its buttons disabled while it runs (the
  // server also refuses a second use of the form's one-time token).
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", (event) => {
      if (form.hasAttribute("data-confirm") && !window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
        return;
      }
      if (!form.querySelector('input[name="once"]')) return; // only the forms that change something
      if (form.dataset.sending) {
        event.preventDefault();
        return;
      }
      form.dataset.sending = "1";
      // After this turn: disabling the clicked button now would drop its name and value from the request.
      setTimeout(() => {
        for (const el of form.elements) {
          if (el.type === "submit") {
            el.disabled = true;
            el.setAttribute("aria-busy", "true");
          }
        }
      }, 0);
    });
  }
  // A page brought back from the browser's cache (the Back button) can be used again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    for (const form of document.querySelectorAll("form[data-sending]")) {
      delete form.dataset.sending;
      for (const el of form.elements) if (el.type === "submit") { el.disabled = false; el.removeAttribute("aria-busy"); }
    }
  });
  for (const button of document.querySelectorAll("[data-back]")) {
    if (window.history.length > 1) button.hidden = false;
    button.addEventListener("click", () => window.history.back());
  }
});
// Copy buttons (citations): shown only where the clipboard can be written.
document.addEventListener("DOMContentLoaded", () => {
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      await navigator.clipboard.writeText(button.getAttribute("data-copy"));
      button.textContent = "Copié";
      setTimeout(() => { button.textContent = "Copier"; }, 1500);
    });
  }
});
