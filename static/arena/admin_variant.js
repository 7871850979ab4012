// The variant form: show only the chosen family's parameter fields (all are shown without JS).
(function () {
  "use strict";
  function sync() {
    var select = document.getElementById("id_family");
    if (!select) return;
    document.querySelectorAll("fieldset.family-params").forEach(function (fieldset) {
      fieldset.hidden = !fieldset.classList.contains("family-" + select.value);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_family");
    if (select) select.addEventListener("change", sync);
    sync();
  });
})();
