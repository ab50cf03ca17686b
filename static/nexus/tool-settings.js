// A persona's tools: choosing a tool redraws the row's settings form with that tool's settings
// (its schema comes with the choice, in data-settings-schemas), starting from empty settings.
document.addEventListener("change", function (event) {
  var choice = event.target;
  if (!choice.matches || !choice.matches("select[data-settings-schemas]")) return;
  var schemas = JSON.parse(choice.dataset.settingsSchemas);
  var settingsId = choice.id.replace(/tool_name$/, "settings");
  var editor = window.reactJsonForm && reactJsonForm.getFormInstance(settingsId + "_jsonform");
  if (!editor) return;
  var empty = { type: "object", properties: {} };
  editor.update({ schema: schemas[choice.value] || empty, data: {} });
});
