/* Population doublings as the counts are typed: PD = log2(harvested / seeded). */
(function () {
  const number = (id) => parseFloat(document.getElementById(id)?.value);
  function update() {
    const s = number("id_cells_seeded"), h = number("id_cells_harvested"), a = number("id_area_cm2");
    const pd = document.getElementById("pd-value"), density = document.getElementById("density-value");
    if (pd) pd.textContent = s > 0 && h > 0 ? Math.log2(h / s).toFixed(2) : "—";
    if (density) density.textContent = s > 0 && a > 0 ? Math.round(s / a).toLocaleString("en") : "—";
  }
  document.addEventListener("input", (event) => {
    if (["id_cells_seeded", "id_cells_harvested", "id_area_cm2"].includes(event.target.id)) update();
  });
  document.addEventListener("htmx:afterSwap", update);
})();
