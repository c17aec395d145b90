// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("[data-select-all]")) {
    const form = box.getAttribute("data-select-all");
    box.addEventListener("change", () => {
      for (const c of document.querySelectorAll(`input.sel[form="${form}"]`)) c.checked = box.checked;
    });
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }
  for (const button of document.querySelectorAll("[data-back]")) {
    if (window.history.length > 1) button.hidden = false;
    button.addEventListener("click", () => window.history.back());
  }
});
