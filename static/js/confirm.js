// Irreversible acts say what will happen before they happen: a form with data-confirm asks
// first, and does nothing unless the person agrees. Without JavaScript the form just submits,
// and the service still enforces every rule.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
