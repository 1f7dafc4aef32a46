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
      if (!list) {
        const input = field.querySelector("input, select, textarea");
        list = Object.assign(document.createElement("ul"), {className: "errorlist", id: (input ? input.id : name) + "_error"});
        field.querySelector(".input-row").after(list);
      }
      list.replaceChildren(...messages.map((m) => Object.assign(document.createElement("li"), {textContent: m})));
    });
  });

  /* The menu button (narrow screens): show or hide the main menu. */
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest(".menu-toggle");
    if (!toggle) return;
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.getElementById(toggle.getAttribute("aria-controls")).classList.toggle("open", open);
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

  /* Aliquot form: the chosen box's map; a free position clicked goes into the positions field, in order. */
  function boxMap() {
    const data = document.getElementById("box-occupancy");
    const select = document.querySelector("[data-box-select]");
    const input = document.querySelector("[data-box-positions]");
    const count = document.querySelector("[data-box-count]");
    // No id: htmx would carry the old map's style (set below) onto the new one as an inline style, which the CSP refuses.
    const map = document.querySelector("[data-box-map]");
    if (!data || !select || !input || !map || map.dataset.bound) return;
    map.dataset.bound = "1";  // once per map: htmx swaps in a new form (and map) after each save
    const boxes = JSON.parse(data.textContent);
    const chosen = () => input.value.split(/[\s,;]+/).filter(Boolean).map((p) => p.toUpperCase());
    const cell = (tag, className, text) => Object.assign(document.createElement(tag), {className, textContent: text});
    function draw() {
      const box = boxes.find((b) => String(b.id) === select.value);
      map.replaceChildren();
      map.hidden = !box;
      if (!box) return;
      map.style.gridTemplateColumns = `1.6rem repeat(${box.columns}, minmax(2.2rem, 1fr))`;
      const picked = chosen();
      map.append(cell("div", "head", ""));
      for (let c = 1; c <= box.columns; c++) map.append(cell("div", "head", String(c)));
      for (let r = 0; r < box.rows; r++) {
        const letter = String.fromCharCode(65 + r);
        map.append(cell("div", "head", letter));
        for (let c = 1; c <= box.columns; c++) {
          const position = letter + c;
          if (box.taken[position]) {
            const taken = cell("div", "taken", box.taken[position]);
            taken.title = `${position}: ${box.taken[position]}`;
            map.append(taken);
          } else {
            const free = cell("button", "free", position);
            free.type = "button";
            free.dataset.position = position;
            free.setAttribute("aria-pressed", String(picked.includes(position)));
            free.setAttribute("aria-label", `Position ${position}, free`);
            map.append(free);
          }
        }
      }
    }
    map.addEventListener("click", (event) => {
      const button = event.target.closest("button.free");
      if (!button) return;
      const picked = chosen();
      const at = picked.indexOf(button.dataset.position);
      if (at >= 0) picked.splice(at, 1); else picked.push(button.dataset.position);
      input.value = picked.join(", ");
      if (count && picked.length) count.value = picked.length;
      draw();
      map.querySelector(`[data-position="${button.dataset.position}"]`).focus();
    });
    select.addEventListener("change", () => { input.value = ""; draw(); });
    input.addEventListener("input", draw);
    draw();
  }
  document.addEventListener("DOMContentLoaded", boxMap);
  document.addEventListener("htmx:load", boxMap);

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
