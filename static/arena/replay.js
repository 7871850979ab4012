// Replay player: plays a finished match's step log back on a timeline, all seats side by side.
// The data is embedded in the page (#replay-data); nothing is fetched. Plain JS, no build step.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("replay-data").textContent);
  const $ = (id) => document.getElementById(id);
  const timeline = data.timeline;
  const total = timeline.length;
  const BASE_INTERVAL_MS = 1200;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  const fmtInt = (n) => (n === null || n === undefined ? "–" : Number(n).toLocaleString("en"));
  const fmtBits = (b) => (b === null || b === undefined ? "–" : b.toFixed(2));
  // inputs and answers in the family's own words (its declared presentation)
  const shown = data.match.presentation || {};
  const fmtInput = (input) => window.ArenaPresent.input(shown, input);
  const fmtAnswer = (answer) => window.ArenaPresent.answer(shown, answer);
  const answerClass = (answer) => (answer === true ? "fits" : answer === false ? "nofit" : "value");
  function fmtMs(ms) {
    if (ms === null || ms === undefined) return "–";
    if (ms < 1000) return Math.round(ms) + " ms";
    const s = ms / 1000;
    return s < 60 ? s.toFixed(1) + " s" : Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
  }
  function fmtClock(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // -- lookups -----------------------------------------------------------------------------------
  const seats = data.seats;
  const seatById = new Map(seats.map((s) => [s.seat, s]));
  const stepOf = (ev) => seatById.get(ev.seat).steps.find((st) => st.seq === ev.seq);
  const kindLabel = (s) => (s.kind === "model" ? "model · " + (s.contestant || "?") : s.kind);

  function stepSummary(seat, step) {
    if (step.kind === "test") {
      const tested = seat.handle + " tested " + fmtInput(step.input) + ": " + fmtAnswer(step.result) + ".";
      if (!hasSpace) return tested;
      return tested + " Hypotheses left: " + fmtInt(step.surviving_before) + " → " + fmtInt(step.surviving) +
        " (" + fmtBits(step.bits) + " bits" + (step.redundant ? ", redundant" : "") + ").";
    }
    if (step.kind === "guess") {
      const ok = step.verdict && step.verdict.correct;
      const said = typeof step.rule === "string" ? step.rule : "an answer";
      return seat.handle + " guessed " + said + ": " + (ok ? "correct" : "not correct") + ".";
    }
    return seat.handle + ": " + step.kind + (step.reason ? " (" + step.reason + ")" : "") + ".";
  }

  // -- build the seat columns once; moving through the timeline only toggles visibility -----------
  const stepNodes = new Map(); // "seat:seq" -> li
  const statNodes = new Map(); // seat id -> p

  function stepNode(seat, step) {
    const head = el("div", { class: "head" });
    const grids = window.ArenaPresent.gridsShown(shown);
    if (step.kind === "test" && grids) {  // grid values drawn (value_display "grid")
      head.append("Test " + step.test + ": ", window.ArenaPresent.inputNode(shown, step.input), " → ",
        window.ArenaPresent.answerNode(shown, step.result));
    } else if (step.kind === "test") {
      head.append(
        "Test " + step.test + ": " + fmtInput(step.input) + " → ",
        el("span", { class: answerClass(step.result) }, fmtAnswer(step.result)),
      );
    } else if (step.kind === "guess") {
      const ok = step.verdict && step.verdict.correct;
      const marks = (step.verdict && step.verdict.counterexample && step.verdict.counterexample.cells) || [];
      const guess = grids && window.ArenaGrid.isGrid(step.rule)
        ? window.ArenaGrid.view(step.rule, { label: "guess", marks, small: true })
        : el("code", {}, typeof step.rule === "string" ? step.rule : JSON.stringify(step.rule));
      head.append("Guess: ", guess, " ",
        el("span", { class: ok ? "fits" : "nofit" }, ok ? "correct" : "not correct"));
    } else {
      head.append(step.kind.charAt(0).toUpperCase() + step.kind.slice(1) + (step.reason ? ": " + step.reason : ""));
    }
    const facts = [];
    if (step.kind === "test" && hasSpace) {
      facts.push("hypotheses " + fmtInt(step.surviving_before) + " → " + fmtInt(step.surviving));
      facts.push(fmtBits(step.bits) + " bits");
    }
    if (seat.kind === "model" && step.model) {
      facts.push("latency " + fmtMs(step.model.latency_ms));
      facts.push(step.model.tokens_in + " in / " + step.model.tokens_out + " out tokens");
      if (step.model.turn_calls > 1) facts.push(step.model.turn_calls + " calls this turn");
    } else if (step.think_ms !== null && step.think_ms !== undefined) {
      facts.push("think time " + fmtMs(step.think_ms));
    }
    facts.push("+" + fmtMs(step.since_previous_ms) + " since previous");
    const li = el("li", { class: "rp-step", "data-seq": String(step.seq), hidden: true }, head,
      el("div", { class: "facts" }, facts.join(" · "), " ",
        step.redundant ? el("span", { class: "badge warn" }, "redundant") : null,
        step.space_exhausted ? el("span", { class: "badge warn" }, "space exhausted") : null));
    if (step.measures) {  // the family's own per-test measures, as named in the export
      const text = Object.entries(step.measures)
        .map(([k, v]) => k.replace(/_/g, " ") + ": " + (v === null ? "–" : String(v))).join(" · ");
      li.append(el("details", {}, el("summary", {}, "Measures"), el("p", { class: "rp-measures small" }, text)));
    }
    if (step.hypothesis) {
      // the hypothesis stated before this test, and what the answer did to it
      const h = step.hypothesis;
      const marks = [];
      if (h.parsed === false) marks.push("not a well-formed rule");
      if (h.positive === true) marks.push("positive test");
      if (h.positive === false) marks.push("negative test");
      if (h.confirmed === true) marks.push("confirmed");
      if (h.confirmed === false) marks.push("refuted");
      if (h.already_refuted) marks.push("already refuted earlier");
      if (h.equivalent) marks.push("equivalent to the hidden rule");
      li.append(el("div", { class: "rp-hypothesis small" }, "Hypothesis: ", el("code", {}, h.text),
        marks.length ? " (" + marks.join(", ") + ")" : ""));
    }
    if (step.model && step.model.reasoning) {
      li.append(el("details", {}, el("summary", {}, "Reasoning"),
        el("pre", { class: "reasoning" }, step.model.reasoning)));
    }
    return li;
  }

  // A family whose input widget grows from the answers (pick_pair with "grow": the elements a
  // player has made) is replayed as a growing list of discoveries: what was made, from what.
  const grows = shown.widget && shown.widget.kind === "pick_pair" && shown.widget.grow;
  // Families with a reference space report surviving hypotheses; others report their own measures.
  const hasSpace = seats.some((s) => s.steps.some((st) => st.surviving !== null && st.surviving !== undefined));
  const discoveryNodes = new Map(); // seat id -> ol

  const seatsBox = $("rp-seats");
  for (const seat of seats) {
    const list = el("ol", { class: "rp-steps", "aria-label": "Steps of " + seat.handle });
    for (const step of seat.steps) {
      const li = stepNode(seat, step);
      stepNodes.set(seat.seat + ":" + step.seq, li);
      list.append(li);
    }
    const stats = el("p", { class: "stats" });
    statNodes.set(seat.seat, stats);
    const h = el("h2", { id: "rp-seat-" + seat.seat }, seat.handle + " ", el("span", { class: "muted small" }, kindLabel(seat)));
    let found = null;
    if (grows) {
      found = el("ol", { class: "rp-discoveries", "aria-label": "Discoveries of " + seat.handle });
      discoveryNodes.set(seat.seat, found);
    }
    seatsBox.append(el("section", { class: "replay-seat", "data-seat": String(seat.seat), "aria-labelledby": "rp-seat-" + seat.seat },
      h, stats, found ? el("div", { class: "rp-found" }, el("h3", { class: "small" }, "Discoveries"), found) : null, list));
  }

  // -- the reveal, shown at the end ----------------------------------------------------------------
  $("rp-rule").textContent = data.reveal.rule;
  if (data.reveal.size) $("rp-rule-size").textContent = "(size " + data.reveal.size + ")";
  const guessless = (shown.guess_widget || {}).kind === "none";  // ends on its budget, scored from the log
  for (const seat of seats) {
    if (guessless) {
      const points = seat.score ? seat.score.points : 0;
      $("rp-verdicts").append(el("p", { class: "rp-verdict", "data-seat": String(seat.seat) },
        el("strong", {}, seat.handle), ": ", window.ArenaPresent.plural(points || 0, "point"), " · ",
        window.ArenaPresent.plural(seat.tests_used, "test") + " (" + seat.status + ")"));
      continue;
    }
    const bits = [seat.solved ? "solved" : "not solved", window.ArenaPresent.plural(seat.tests_used, "test")];
    if (seat.redundant_tests) bits.push(seat.redundant_tests + " redundant");
    bits.push(fmtBits(seat.total_bits) + " bits in total");
    if (seat.parsimony !== null) bits.push("parsimony " + seat.parsimony + " (guess size " + seat.guess_size + ")");
    const stated = seat.hypotheses || {};
    if (stated.positive_share !== null && stated.positive_share !== undefined) {
      bits.push(Math.round(stated.positive_share * 100) + "% positive tests");
    }
    if (stated.first_equivalent_test) bits.push("right hypothesis from test " + stated.first_equivalent_test);
    $("rp-verdicts").append(el("p", { class: "rp-verdict", "data-seat": String(seat.seat) },
      el("strong", {}, seat.handle), ": ",
      seat.guess && window.ArenaPresent.gridsShown(shown) && window.ArenaGrid.isGrid(seat.guess)
        ? window.ArenaGrid.view(seat.guess, { label: "final answer", small: true })
        : seat.guess ? el("code", {}, typeof seat.guess === "string" ? seat.guess : JSON.stringify(seat.guess))
        : "no guess (" + seat.status + (seat.end_reason ? ": " + seat.end_reason : "") + ")", " — ",
      el("span", { class: seat.solved ? "verdict yes" : "verdict no" }, bits.join(" · "))));
  }

  // -- playback ------------------------------------------------------------------------------------
  let position = 0;
  let timer = null;
  const scrubber = $("rp-scrubber");
  const playButton = $("rp-play");

  // Scroll the seat's own list, never the page, so the controls stay where the keyboard user is.
  function keepInView(li) {
    const list = li.parentElement;
    const top = li.offsetTop;
    const bottom = top + li.offsetHeight;
    if (top < list.scrollTop || bottom > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, bottom - list.clientHeight);
    }
  }

  function render() {
    const played = new Set();
    const perSeat = new Map(seats.map((s) => [s.seat, { tests: 0, bits: 0, surviving: null }]));
    for (let i = 0; i < position; i++) {
      const ev = timeline[i];
      played.add(ev.seat + ":" + ev.seq);
      const step = stepOf(ev);
      const acc = perSeat.get(ev.seat);
      if (step.kind === "test") {
        acc.tests += 1;
        acc.bits += step.bits || 0;
        acc.surviving = step.surviving;
      }
    }
    const current = position > 0 ? timeline[position - 1] : null;
    for (const [key, li] of stepNodes) {
      li.hidden = !played.has(key);
      const isCurrent = current !== null && key === current.seat + ":" + current.seq;
      li.classList.toggle("current", isCurrent);
      if (isCurrent) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
      if (isCurrent) keepInView(li);
    }
    for (const seat of seats) {
      const acc = perSeat.get(seat.seat);
      const surviving = acc.surviving === null ? (seat.curve.length ? seat.curve[0] : null) : acc.surviving;
      let text = acc.tests + " test" + (acc.tests === 1 ? "" : "s");
      if (hasSpace) text += " · hypotheses left " + fmtInt(surviving) + " · " + fmtBits(acc.bits) + " bits";
      if (grows) {
        const known = (shown.widget.options || []).slice();
        const found = discoveryNodes.get(seat.seat);
        found.replaceChildren();
        for (const st of seat.steps) {
          if (!played.has(seat.seat + ":" + st.seq)) continue;
          if (st.kind === "test" && typeof st.result === "string" && !known.includes(st.result)) {
            known.push(st.result);
            found.append(el("li", {}, el("strong", {}, st.result), " from " + fmtInput(st.input)));
          }
        }
        if (!found.children.length) found.append(el("li", { class: "muted" }, "nothing yet"));
        text += " · knows " + known.length + " elements";
      }
      statNodes.get(seat.seat).textContent = text;
    }
    $("rp-position").textContent = "Step " + position + " of " + total;
    $("rp-clock").textContent = current ? "at " + fmtClock(current.t_ms) : "";
    $("rp-now").textContent = current
      ? "Step " + position + ": " + stepSummary(seatById.get(current.seat), stepOf(current))
      : "Nothing played yet. " + seats.length + " seat" + (seats.length === 1 ? "" : "s") + " on the same puzzle.";
    scrubber.value = String(position);
    scrubber.setAttribute("aria-valuetext", "Step " + position + " of " + total);
    $("rp-reveal").hidden = position < total;
    if (!timer) playButton.textContent = position === total ? "Play again" : "Play";
    $("rp-back").disabled = $("rp-start").disabled = position === 0;
    $("rp-forward").disabled = $("rp-end").disabled = position === total;
    const url = new URL(window.location.href);
    url.hash = position ? "step=" + position : "";
    history.replaceState(null, "", url.hash ? url : url.pathname + url.search);
    $("share-url").value = window.location.href;
  }

  function seek(p) {
    position = Math.max(0, Math.min(total, p));
    render();
    if (position === total) pause();
  }

  function play() {
    if (position === total) position = 0;
    playButton.textContent = "Pause";
    playButton.setAttribute("aria-pressed", "true");
    const tick = () => {
      seek(position + 1);
      if (position < total) timer = setTimeout(tick, BASE_INTERVAL_MS / Number($("rp-speed").value));
    };
    clearTimeout(timer);
    timer = setTimeout(tick, position === 0 ? 0 : BASE_INTERVAL_MS / Number($("rp-speed").value));
  }

  function pause() {
    clearTimeout(timer);
    timer = null;
    playButton.textContent = position === total ? "Play again" : "Play";
    playButton.setAttribute("aria-pressed", "false");
  }

  const toggle = () => (timer ? pause() : play());

  playButton.addEventListener("click", toggle);
  $("rp-forward").addEventListener("click", () => { pause(); seek(position + 1); });
  $("rp-back").addEventListener("click", () => { pause(); seek(position - 1); });
  $("rp-start").addEventListener("click", () => { pause(); seek(0); });
  $("rp-end").addEventListener("click", () => { pause(); seek(total); });
  scrubber.addEventListener("input", () => { pause(); seek(Number(scrubber.value)); });

  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const tag = e.target.tagName;
    // Form fields and the scrubber handle their own keys; buttons and summaries take space natively.
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (e.key === " " && (tag === "BUTTON" || tag === "SUMMARY")) return;
    if (e.key === " ") { e.preventDefault(); toggle(); }
    else if (e.key === "ArrowRight") { e.preventDefault(); pause(); seek(position + 1); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); pause(); seek(position - 1); }
    else if (e.key === "Home") { e.preventDefault(); pause(); seek(0); }
    else if (e.key === "End") { e.preventDefault(); pause(); seek(total); }
  });

  $("copy-link").addEventListener("click", async () => {
    const status = $("copy-status");
    const input = $("share-url");
    input.value = window.location.href;
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = "Link copied.";
    } catch (err) {
      input.select();
      status.textContent = document.execCommand && document.execCommand("copy")
        ? "Link copied." : "Select the link above and copy it.";
    }
  });

  const fromHash = /^#step=(\d+)$/.exec(window.location.hash);
  seek(fromHash ? Number(fromHash[1]) : 0);
  pause();
})();
