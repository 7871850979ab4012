// The guided first puzzle: shows the hint for the step the player is at, from the match state the
// match page renders (match.js sends "arena:render"), and remembers when the guide is done.
(function () {
  "use strict";
  const KEY = "arena.guide";
  const $ = (id) => document.getElementById(id);
  const present = window.ArenaPresent;
  let step = 0;
  let remembered = false;

  function remember() {
    if (remembered) return;
    remembered = true;
    try { window.localStorage.setItem(KEY, "done"); } catch (e) { /* the server remembers it */ }
    const form = new FormData($("guide-skip-form"));
    form.delete("then");
    fetch($("guide-skip-form").action, { method: "POST", body: form, credentials: "same-origin" });
  }

  function stepFor(state, seat) {
    if (state.reveal) return 4;
    const tests = ((seat && seat.steps) || []).filter((s) => s.kind === "test");
    if (!tests.length) return 1;
    const sawNo = tests.some((s) => s.result === false);
    return sawNo || tests.length >= 3 ? 3 : 2;
  }

  document.addEventListener("arena:render", (e) => {
    const { state, seat } = e.detail;
    const next = stepFor(state, seat);
    if (next === 2) {
      const tests = seat.steps.filter((s) => s.kind === "test");
      const last = tests[tests.length - 1];
      $("guide-last").textContent = present.input(state.presentation || {}, last.input) + " " +
        present.answer(state.presentation || {}, last.result) + ".";
    }
    if (next === step) return;
    step = next;
    document.querySelectorAll("#guide .guide-step").forEach((node) => { node.hidden = Number(node.dataset.step) !== step; });
    $("guide-progress").textContent = step < 4 ? "· step " + step + " of 3" : "· done";
    $("guide").dataset.step = String(step);
    if (step === 4) { $("guide-skip-form").hidden = true; remember(); }
  });

  $("guide-skip-form").addEventListener("submit", () => {
    try { window.localStorage.setItem(KEY, "done"); } catch (e) { /* the server remembers it */ }
  });
})();
