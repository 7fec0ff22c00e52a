// Small progressive enhancement; every page works without it.

// Copy buttons: <button data-copy="text" data-copied="Copied">.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const text = button.dataset.copy;
  const done = () => {
    const label = button.textContent;
    button.textContent = button.dataset.copied || "Copied";
    button.classList.add("copied");
    setTimeout(() => { button.textContent = label; button.classList.remove("copied"); }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    // Plain-HTTP registries on a closed network: the async clipboard API is unavailable.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); done(); } finally { area.remove(); }
  }
});

// Forms that need a confirmation: <form data-confirm="Really?">.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// Selects that submit their form on change (the language switcher).
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});

// After an htmx comment post, clear nothing else: the server returns a fresh form.
// Keep the comment count in step with the list.
document.addEventListener("htmx:afterSettle", () => {
  const list = document.getElementById("comments-list");
  const count = document.getElementById("comment-count");
  if (list && count) count.textContent = list.querySelectorAll(".comment").length;
});
