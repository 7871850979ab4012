// Home: a browser that has finished or skipped the guided first puzzle is not offered it first
// again (an account or the session remembers it on the server; this covers a guest's new session).
(function () {
  "use strict";
  const KEY = "arena.guide";
  const offer = document.getElementById("first-visit");
  let done = false;
  try { done = window.localStorage.getItem(KEY) === "done"; } catch (e) { /* storage blocked */ }
  if (offer && done) offer.hidden = true;
  const skip = document.getElementById("skip-guide-form");
  if (skip) {
    skip.addEventListener("submit", () => {
      try { window.localStorage.setItem(KEY, "done"); } catch (e) { /* the server remembers it */ }
    });
  }
})();
