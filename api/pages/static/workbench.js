// The inspector's keyboard (issue #18): j/k next/previous flag, c/d confirm/dismiss every finding
// not decided by hand, record and open the next flag; u undo; ? help. Keys typed into a field are
// the field's.
(() => {
  const form = document.getElementById("decide");
  const help = document.getElementById("help");
  const toast = document.getElementById("undo-toast");
  if (toast) {  // the undo is offered for its time only (the server refuses it afterwards too)
    setTimeout(() => toast.remove(), 1000 * Number(toast.dataset.expires || 60));
  }
  const helpButton = document.getElementById("help-button");
  if (helpButton && help) helpButton.addEventListener("click", () => help.showModal());
  function go(id) {
    const link = document.getElementById(id);
    if (link) window.location.assign(link.href);
  }
  function decide(outcome) {
    if (!form) return;
    form.querySelector(`input[name=outcome][value=${outcome}]`).checked = true;
    const reason = form.querySelector("#reason");
    const group = reason.querySelector(`optgroup[data-outcome=${outcome}]`);
    if (reason.selectedOptions[0] && reason.selectedOptions[0].parentElement !== group) {
      reason.value = group.querySelector("option").value;
    }
    form.requestSubmit(document.getElementById("decide-next"));
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
    const actions = {
      j: () => {  // on the queue: open its first flag
        const first = document.querySelector("tr.flag a");
        if (document.getElementById("next-flag")) go("next-flag");
        else if (!form && first) window.location.assign(first.href);
      },
      k: () => go("prev-flag"),
      c: () => decide("confirmed"),
      d: () => decide("dismissed"),
      u: () => { const undo = document.getElementById("undo"); if (undo) undo.click(); },
      "?": () => { if (help) (help.open ? help.close() : help.showModal()); },
    };
    const act = actions[event.key];
    if (act) { event.preventDefault(); act(); }
  });
})();
