// Enterprise picker (enterprises/widgets/picker.html): a click on an autocomplete option fills the hidden id.
document.addEventListener("click", (event) => {
  const option = event.target.closest(".js-picker-option");
  if (!option) return;
  const picker = option.closest("[data-picker]");
  if (!picker) return;
  picker.querySelector(".js-picker-value").value = option.dataset.id;
  picker.querySelector("input[type=search]").value = option.dataset.label;
  picker.querySelector(".js-picker-options").replaceChildren();
});
document.addEventListener("input", (event) => {
  // Typing again clears the previous choice until a new option is picked.
  const picker = event.target.closest("[data-picker]");
  if (picker && event.target.type === "search") picker.querySelector(".js-picker-value").value = "";
});
