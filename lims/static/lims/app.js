/* Behaviour of every page, as a static file: the Content-Security-Policy allows no inline script or style. */
(function () {
  const csrfToken = () => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  };

  /* Sizes that come from data (score bars, progress, a box's columns) are set through the CSSOM. */
  function applySizes(root) {
    root.querySelectorAll("[data-width]").forEach((el) => {
      const percent = Math.max(0, Math.min(100, parseFloat(el.dataset.width) || 0));
      el.style.width = percent + "%";
    });
    root.querySelectorAll("[data-grid-columns]").forEach((el) => {
      el.style.gridTemplateColumns = `2rem repeat(${parseInt(el.dataset.gridColumns, 10) || 1}, minmax(3.5rem, 1fr))`;
    });
  }
  document.addEventListener("DOMContentLoaded", () => applySizes(document));
  document.addEventListener("htmx:load", (event) => applySizes(event.detail.elt.parentElement || document));

  /* Inline validation: the server checks the form as it is typed (nothing is saved) and answers with
     the errors per field; they are shown beside the fields without touching what is being typed. */
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = event.detail.elt;
    if (!form.matches || !form.matches("form[data-inline-validation]") || !event.detail.xhr) return;
    let errors;
    try { errors = JSON.parse(event.detail.xhr.responseText).errors; } catch (e) { return; }
    form.querySelectorAll(".field").forEach((field) => {
      const name = field.id.replace(/^field-/, "");
      let list = field.querySelector("ul.errorlist");
      const messages = errors[name] || [];
      field.classList.toggle("has-error", messages.length > 0);
      if (!list) { list = document.createElement("ul"); list.className = "errorlist"; field.querySelector(".input-row").after(list); }
      list.replaceChildren(...messages.map((m) => Object.assign(document.createElement("li"), {textContent: m})));
    });
  });

  /* Buttons: open or close a dialog, print, open the QC verification dialog for one result. */
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) { document.getElementById(opener.dataset.openDialog).showModal(); return; }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) { closer.closest("dialog").close(); return; }
    if (event.target.closest("[data-print]")) { window.print(); return; }
    const verify = event.target.closest("[data-verify]");
    if (verify) { openVerify(verify.dataset.verify, verify.dataset.verifyLabel, verify.dataset.verifyOutcome); }
  });

  function openVerify(id, label, outcome) {
    const dialog = document.getElementById("verify-dialog");
    document.getElementById("verify-form").action = dialog.dataset.verifyUrl.replace("/0/", "/" + id + "/");
    document.getElementById("qc-reject-form").action = dialog.dataset.rejectUrl.replace("/0/", "/" + id + "/");
    document.getElementById("verify-subject").textContent = label + (outcome === "fail" ? " — out of specification" : "");
    document.getElementById("verify-justification").required = outcome === "fail";
    dialog.showModal();
  }

  /* Study page: POST /api/v1/exports/methods {"study": id, "format": …} and hand the file to the browser. */
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-export]");
    const status = document.getElementById("export-status");
    if (!button || !status || !status.dataset.study) return;
    status.textContent = "Preparing…";
    const response = await fetch("/api/v1/exports/methods", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify({study: parseInt(status.dataset.study, 10), format: button.dataset.export}),
    });
    if (!response.ok) { status.textContent = "Export failed: " + (await response.text()); return; }
    const name = (response.headers.get("Content-Disposition") || "").match(/filename="?([^";]+)"?/);
    const link = Object.assign(document.createElement("a"), {href: URL.createObjectURL(await response.blob()),
                                                              download: name ? name[1] : "methods"});
    document.body.append(link); link.click(); link.remove();
    status.textContent = "Downloaded " + link.download + ".";
  });
})();
