// foodrisk — behaviour without inline scripts (the CSP forbids them).
document.addEventListener("change", (event) => {
  if (event.target.matches(".js-autosubmit")) event.target.form.submit();
});
document.addEventListener("click", (event) => {
  const confirmLink = event.target.closest("[data-confirm]");
  if (confirmLink && !window.confirm(confirmLink.dataset.confirm)) event.preventDefault();
});
// Charts: <div class="chart" data-echarts-src="URL"> or data-echarts='{"option": …}'
function renderCharts(root) {
  if (!window.echarts) return;
  root.querySelectorAll("[data-echarts]").forEach((el) => {
    const chart = echarts.init(el);
    chart.setOption(JSON.parse(el.dataset.echarts));
    window.addEventListener("resize", () => chart.resize());
  });
}
document.addEventListener("DOMContentLoaded", () => renderCharts(document));
document.body && document.body.addEventListener("htmx:afterSwap", (e) => renderCharts(e.target));
function applyWidths(root) {
  root.querySelectorAll("[data-width]").forEach((el) => { el.style.width = el.dataset.width + "%"; });
}
document.addEventListener("DOMContentLoaded", () => applyWidths(document));
document.addEventListener("htmx:afterSwap", (e) => applyWidths(e.target));
// A table's "select all" checkbox (class js-select-all, data-form = the form its row checkboxes belong to).
document.addEventListener("change", (event) => {
  if (!event.target.matches(".js-select-all")) return;
  const form = event.target.dataset.form;
  document.querySelectorAll(`input[type=checkbox][form="${form}"]`).forEach((box) => {
    box.checked = event.target.checked;
  });
});
