// Live match page: one WebSocket, state rebuilt from the server's snapshot plus ordered events.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("arena-config").textContent);
  const $ = (id) => document.getElementById(id);
  let ws = null;
  let state = null;       // the last snapshot, kept current by events
  let lastSeq = 0;        // highest event seq applied
  let pending = null;     // the move in flight: re-sent with the same id after a reconnect
  let backoff = 500;
  let lastActionAt = Date.now();
  let checkTimer = null;

  function moveId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(msg)); return true; }
    return false;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  }

  // How inputs and answers look comes from the family's declared presentation (the server's
  // snapshot carries it): one of a few generic widgets, driven by its options. Nothing here
  // names a family.
  function shown() { return (state && state.presentation) || {}; }
  function widget() { return shown().widget || { kind: "number_tuple", fields: [] }; }
  function guessWidget() { return shown().guess_widget || { kind: "rule" }; }
  let testEditor = null;   // the grid editor of a "grid" input widget
  let guessEditor = null;  // the grid editor of a "grid" guess widget
  const present = window.ArenaPresent;
  function fmt(v) { return present.input(shown(), v); }
  function answerText(a) { return present.answer(shown(), a); }
  function ruleExample() { return shown().rule_example || ""; }
  function hasGuess() { return ((shown().guess_widget || {}).kind || "rule") !== "none"; }

  function showMessage(text, kind) {
    const box = $("messages");
    box.textContent = text || "";
    box.className = "messages" + (text ? " " + (kind || "error") : "");
  }

  function setConn(text, ok) {
    const c = $("connection");
    c.textContent = text;
    c.className = "conn " + (ok ? "ok" : "bad");
  }

  // -- connection --------------------------------------------------------------------------------
  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + cfg.wsPath);
    ws.onopen = () => {
      setConn("live", true);
      backoff = 500;
      // A fresh page asks for a snapshot; a reconnect asks only for what it missed.
      send(state ? { type: "resume", after: lastSeq } : { type: "resume" });
    };
    ws.onmessage = (e) => handle(JSON.parse(e.data));
    ws.onclose = (e) => {
      if (e.code === 4404) { setConn("no such match", false); return; }
      if (e.code === 4503) {  // the arena is full: come back in a minute, not in a retry storm
        setConn("the arena is full; trying again in a minute", false);
        setTimeout(connect, 60000);
        return;
      }
      setConn("reconnecting…", false);
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 8000);
    };
  }

  // A spectator of a variant with a spectator delay sees each seat's tests once they are that
  // old: live events carry progress only, so ask for a fresh snapshot now and then.
  let delayedLogTimer = null;
  function scheduleDelayedLog() {
    if (delayedLogTimer || !cfg.spectate || !state.spectator_delay_s) return;
    const every = Math.max(5, state.spectator_delay_s / 2) * 1000;
    delayedLogTimer = setInterval(() => {
      if (state && state.status !== "running") { clearInterval(delayedLogTimer); return; }
      send({ type: "resume" });
    }, every);
  }

  function resend() {
    if (pending) send(pending);
  }

  function handle(msg) {
    switch (msg.type) {
      case "state": {
        // a rival who finished while this page resynced is announced like one seen live
        const before = state ? new Map(state.seats.map((s) => [s.id, s.status])) : new Map();
        state = msg; lastSeq = msg.event_seq; drainEarly(); render(); resend(); scheduleDelayedLog();
        state.seats.forEach((s) => { if (before.get(s.id) === "playing" && s.status !== "playing") rivalDone(s); });
        break;
      }
      case "resumed":
        resend(); break;
      case "event": onEvent(msg); break;
      case "full": showMessage(msg.message, "error"); break;
      case "result": onResult(msg); break;
      case "rule_check": onRuleCheck(msg); break;
      case "error": onError(msg); break;
    }
  }

  // -- events, in seq order ------------------------------------------------------------------------
  // Events from different senders (this page's own moves come back in their replies, a rival's
  // through the server) may cross on the way: one that comes before an earlier one waits here a
  // moment for it; if the gap is still open then, the page asks for a fresh snapshot.
  const early = new Map();  // seq -> event
  let gapTimer = null;
  const GAP_WAIT_MS = 400;

  function onEvent(msg) {
    if (msg.seq <= lastSeq) return;                      // already applied (or in a snapshot)
    if (!state) { send({ type: "resume", after: lastSeq }); return; }
    early.set(msg.seq, msg);
    drainEarly();
    render();
  }

  function drainEarly() {
    for (const seq of early.keys()) if (seq <= lastSeq) early.delete(seq);
    while (state && early.has(lastSeq + 1)) {
      const ev = early.get(lastSeq + 1);
      early.delete(ev.seq);
      lastSeq = ev.seq;
      applyEvent(ev);
    }
    if (!early.size) { clearTimeout(gapTimer); gapTimer = null; }
    else if (!gapTimer) {
      gapTimer = setTimeout(() => {
        gapTimer = null;
        if (early.size) { early.clear(); send({ type: "resume", after: lastSeq }); }
      }, GAP_WAIT_MS);
    }
  }

  // -- state updates ---------------------------------------------------------------------------------
  function seatById(id) { return state.seats.find((s) => s.id === id); }

  function mergeSeat(summary, step) {
    let seat = seatById(summary.id);
    if (!seat) { seat = Object.assign({ steps: [] }, summary); state.seats.push(seat); }
    else {
      const was = seat.status;
      Object.assign(seat, summary);
      if (was === "playing" && seat.status !== "playing") rivalDone(seat);
    }
    if (step) {
      seat.steps = seat.steps || [];
      if (!seat.steps.some((s) => s.seq === step.seq)) {
        seat.steps.push(step);
        seat.steps.sort((a, b) => a.seq - b.seq);
      }
    }
  }

  function applyEvent(ev) {
    if (ev.event === "seat_joined" || ev.event === "progress") mergeSeat(ev.seat, null);
    else if (ev.event === "step") mergeSeat(ev.seat, ev.step);
    else if (ev.event === "match_started") { state.status = ev.status; state.started = ev.started; }
    else if (ev.event === "match_finished") {
      state.status = ev.status; state.finished = ev.finished; state.reveal = ev.reveal;
      send({ type: "resume" });  // every seat's full log is visible now
    }
  }

  // A rival is done: told once the paced count of their tests has caught up (see paceStep).
  function rivalDone(seat) {
    if (seat.id === cfg.seatId) return;
    if (seat.id in paced && paced[seat.id] < seat.tests_used && !reducedMotion()) newsDue[seat.id] = true;
    else announceRival(seat);
  }

  // The race moment: a rival is done (their guess stays hidden until the end).
  function announceRival(seat) {
    const box = $("race-news");
    if (!box) return;
    const what = seat.status === "finished" ? "made their guess" : seat.status.replace("_", " ");
    box.textContent = seat.handle + " " + what + " after " + present.plural(seat.tests_used, "test") + ".";
    box.hidden = false;
  }

  function onResult(msg) {
    if (pending && pending.id === msg.id) pending = null;
    lastActionAt = Date.now();
    (msg.events || []).forEach(onEvent);  // what the move made, in seq order (not broadcast back here)
    if (state) {
      mergeSeat(msg.seat, msg.step);
      state.status = msg.match_status;
      if (msg.reveal) state.reveal = msg.reveal;
    }
    if (msg.step.kind === "test") {
      const node = present.gridsShown(shown()) ? present.answerNode(shown(), msg.step.result) : answerText(msg.step.result);
      $("last-answer").replaceChildren(present.inputNode(shown(), msg.step.input), " ", node);
      $("last-answer").className = "answer " + present.answerClass(msg.step.result);
    }
    if (msg.step.kind === "guess" && msg.step.attempts_left) {  // a wrong guess, and guesses are left
      showMessage("Not right. " + present.plural(msg.step.attempts_left, "attempt") + " left.", "error");
      return render();
    }
    showMessage(msg.message || "", "error");
    render();
  }

  function onError(msg) {
    if (msg.id && pending && pending.id === msg.id) pending = null;
    showMessage(msg.message, "error");
    if (msg.column && document.activeElement === $("rule")) showRuleError(msg.message, msg.column);
    render();
  }

  // -- rule checking ------------------------------------------------------------------------------------
  function showRuleError(message, column) {
    const box = $("rule-check");
    box.replaceChildren();
    box.className = "rule-check bad";
    box.append(el("span", { text: message }));
    if (column) {
      const text = $("rule").value;
      box.append(el("pre", { class: "caret", "aria-hidden": "true", text: text + "\n" + " ".repeat(Math.max(column - 1, 0)) + "^" }));
    }
    $("rule").setAttribute("aria-invalid", "true");
  }

  function onRuleCheck(msg) {
    if (!$("rule") || msg.rule !== $("rule").value) return;   // a stale answer for older text
    const box = $("rule-check");
    if (msg.ok) {
      box.className = "rule-check ok";
      box.textContent = "Reads as: " + msg.canonical;
      $("rule").setAttribute("aria-invalid", "false");
    } else {
      showRuleError(msg.error, msg.column);
    }
  }

  // -- rendering -----------------------------------------------------------------------------------------
  function mySeat() { return state && cfg.seatId ? seatById(cfg.seatId) : null; }

  function render() {
    if (!state) return;
    $("status").textContent = state.status;
    // a finished match of today's daily puzzle, held back until this viewer has played their own
    if ($("daily-embargo")) $("daily-embargo").hidden = !state.daily_embargo;
    $("description").textContent = state.description;
    if ($("scoring")) $("scoring").textContent = state.scoring || "";
    const ex = $("examples");
    ex.replaceChildren();
    const examples = (state.public && state.public.examples) || [];
    if (examples.length && present.gridsShown(shown())) {  // grids: each example drawn, then the grid to answer for
      const list = el("ol", { class: "grid-examples" });
      examples.forEach((e, i) => list.append(el("li", {}, present.inputNode(shown(), e.input), " → ", present.answerNode(shown(), e.result))));
      ex.append(el("h3", { text: "Demonstrations" }), list);
      const target = state.public[guessWidget().source];
      if (target) ex.append(el("h3", { text: "Test input" }), window.ArenaGrid.view(target, { palette: guessWidget().palette, label: "test input" }));
    } else if (examples.length) {
      // yes/no families show the inputs that fit; any other answer type shows input → answer
      const fitting = examples.every((e) => e.result === true);
      ex.append(el("p", { text: fitting
        ? "Known to fit: " + examples.map((e) => fmt(e.input)).join("  ")
        : "Examples: " + examples.map((e) => fmt(e.input) + " " + answerText(e.result)).join(";  ") }));
    }
    const me = mySeat();
    if (!cfg.spectate) {
      buildInputs();
      refreshPickers();
      // A family with no rule to state (guess widget "none") ends on its test budget: no guess box.
      if ($("guess-panel")) $("guess-panel").hidden = !hasGuess();
      const left = me ? me.tests_left : 0;
      $("tests-left").textContent = String(left);
      const canMove = me && me.status === "playing" && state.status === "running";
      $("run-test").disabled = !canMove || left <= 0 || !!pending;
      $("submit-guess").disabled = !canMove || !!pending;
      $("rule").disabled = !canMove;
      $("hypothesis").disabled = !canMove || left <= 0;
      document.querySelectorAll("#test-inputs .test-field").forEach((i) => { i.disabled = !canMove || left <= 0; });
      if (testEditor) testEditor.setDisabled(!canMove || left <= 0);
      if (guessEditor) guessEditor.setDisabled(!canMove);
      if (widget().kind === "reveal") {
        const next = nextReveal();
        $("reveal-next").textContent = next === null ? "Nothing left to reveal." : "Next: " + (widget().label || "item") + " " + next;
        if (next === null) $("run-test").disabled = true;
      }
      const gw = guessWidget();
      if (gw.attempts && me) {
        const used = (me.steps || []).filter((s) => s.kind === "guess").length;
        $("guess-note").textContent = "You have " + present.plural(Math.max(gw.attempts - used, 0), "attempt") +
          " left: a right answer ends your game, a wrong one uses an attempt.";
      }
    }
    renderLobby();
    renderSeats(me);
    renderReveal();
    // for helpers of this page (the guided first puzzle) that follow the match
    document.dispatchEvent(new CustomEvent("arena:render", { detail: { state, seat: me } }));
  }

  // A race with friends before the host starts it: who has joined, live.
  let lobbyWasOpen = false;
  function renderLobby() {
    const box = $("lobby");
    if (!box) return;
    const waiting = state.status === "waiting";
    box.hidden = !waiting;
    if (waiting) {
      lobbyWasOpen = true;
      const list = $("lobby-seats");
      list.replaceChildren(...state.seats.map((s) => el("li", { "data-seat": String(s.id) },
        s.handle + (s.id === cfg.seatId ? " (you)" : ""),
        ...(s.kind === "model" ? [" ", el("span", { class: "tag", text: "model" })] : []))));
    } else if (lobbyWasOpen) {
      lobbyWasOpen = false;
      const news = $("race-news");
      news.textContent = "The race has started. Go!";
      news.hidden = false;
      const first = document.querySelector("#test-inputs .test-field");
      if (first && !first.disabled) first.focus();
    }
  }

  let quizBuilt = false;
  function buildQuiz() {
    const items = state.quiz_items || [];
    if (quizBuilt || !items.length || !$("quiz")) return;
    quizBuilt = true;
    $("quiz").hidden = false;
    items.forEach((item, i) => {
      const id = "quiz-" + i;
      const sel = el("select", { id, name: id },
        el("option", { value: "", text: "—" }), el("option", { value: "yes", text: "fits" }),
        el("option", { value: "no", text: "does not fit" }));
      $("quiz-items").append(el("label", { for: id, class: "quiz-item" }, fmt(item) + " ", sel));
    });
  }

  // The match may ask for the player's current hypothesis before each test (state.hypothesis:
  // mode off | optional | required | required_parseable, format rule | text).
  function hypothesisAsked() { return state && state.hypothesis && state.hypothesis.mode !== "off"; }
  function hypothesisRequired() { return hypothesisAsked() && state.hypothesis.mode.startsWith("required"); }
  let hypothesisBuilt = false;
  function buildHypothesis() {
    if (hypothesisBuilt || !hypothesisAsked() || !$("hypothesis-box")) return;
    hypothesisBuilt = true;
    const asRule = state.hypothesis.format === "rule";
    $("hypothesis-box").hidden = false;
    $("hypothesis-need").textContent = hypothesisRequired() ? "(required with each test)" : "(optional: leave it empty to skip)";
    $("hypothesis-help").textContent = asRule
      ? "What you think the rule is now, written as a guess would be" + (ruleExample() ? " (e.g. " + ruleExample() + ")" : "") +
        ". It does not end your game; only the guess does."
      : "What you think the rule is now, in your own words. It does not end your game; only the guess does.";
    if (asRule && ruleExample()) $("hypothesis").placeholder = "e.g. " + ruleExample();
  }

  let inputsBuilt = false;
  function buildInputs() {
    buildQuiz();
    buildHypothesis();
    if (inputsBuilt) return;
    inputsBuilt = true;
    const p = shown();
    const w = widget();
    $("rule-vars").textContent = p.guess_label || "";
    $("syntax-help").textContent = p.syntax_help || "";
    $("rule").placeholder = ruleExample() ? "e.g. " + ruleExample() : "";
    buildGuess();
    const box = $("test-inputs");
    const ex = state.public && state.public.examples && state.public.examples[0];
    const first = ex ? ex.input : p.input_example;
    if (w.kind === "grid") {  // the grid editor: draw a probe
      testEditor = window.ArenaGrid.editor({ id: "probe", palette: w.palette, maxSide: w.max_side, label: "Probe grid",
        copyFrom: w.source ? () => state.public[w.source] : null });
      box.append(testEditor.node);
      return;
    }
    if (w.kind === "reveal") {  // no input of the player's: the next item not yet seen
      box.append(el("p", { id: "reveal-next", class: "reveal-next" }));
      $("run-test").textContent = "Reveal " + (w.label || "the next item");
      return;
    }
    if (w.kind === "card_pair") {  // a rank picker and a suit picker per card
      w.fields.forEach((name, i) => {
        const rank = i % 2 === 0;
        const options = rank
          ? w.ranks.map((o) => el("option", { value: String(o.value), text: o.text }))
          : w.suits.map((o) => el("option", { value: String(o.value), text: o.symbol + " " + o.name }));
        const input = el("select", { id: "input-" + name, name, class: "test-field", "data-type": "integer" }, ...options);
        if (Array.isArray(first)) input.value = String(first[i]);
        box.append(el("label", { for: "input-" + name }, w.cards[Math.floor(i / 2)] + " " + (rank ? "rank" : "suit") + " ", input));
      });
      return;
    }
    if (w.kind === "pick_pair") {  // two pickers over the options and what this seat has found
      (w.labels || ["first", "second"]).forEach((label, i) => {
        const input = el("select", { id: "input-pick-" + i, name: "pick-" + i, class: "test-field", "data-type": "pick" });
        box.append(el("label", { for: "input-pick-" + i }, label + " ", input));
      });
      box.append(el("p", { id: "known-list", class: "known-list", "aria-live": "polite" }));
      refreshPickers();
      const picks = document.querySelectorAll("#test-inputs select");
      if (Array.isArray(first)) first.forEach((v, i) => { if (picks[i]) picks[i].value = v; });
      return;
    }
    if (w.kind === "integer_list" || w.kind === "string") {  // one text box
      const input = el("input", { id: "input-value", name: w.label || "input", type: "text", spellcheck: "false",
        required: "required", class: "test-field", "data-type": w.kind, "aria-describedby": "input-error" });
      if (first !== undefined && first !== null) input.value = Array.isArray(first) ? first.join(", ") : String(first);
      box.append(el("label", { for: "input-value" }, (w.label || "input") + " ", input));
      return;
    }
    (w.fields || []).forEach((f, i) => {  // number_tuple: one number box per field
      // A text box read strictly (readInput): a browser number box turns "1,2" into 12 and
      // "1.2.3" into 1.23, and a test the player did not mean must never be spent.
      const input = el("input", { id: "input-" + f.name, name: f.name, type: "text", inputmode: "decimal",
        spellcheck: "false", required: "required", class: "test-field", "data-type": "number",
        "aria-describedby": "input-error" });
      if (Array.isArray(first)) input.value = first[i];
      box.append(el("label", { for: "input-" + f.name }, (f.label || f.name) + " ", input));
    });
  }

  // The guess widget: a rule's text box (the page's own), or the grid editor in its place.
  function buildGuess() {
    const gw = guessWidget();
    if (gw.kind !== "grid") return;
    $("rule").hidden = true;
    $("rule-label").hidden = true;
    $("rule-check").hidden = true;
    guessEditor = window.ArenaGrid.editor({ id: "answer", palette: gw.palette, maxSide: gw.max_side, label: "Your answer",
      initial: gw.source ? state.public[gw.source] : null, copyFrom: gw.source ? () => state.public[gw.source] : null });
    $("guess-editor").append(guessEditor.node);
    $("guess-h").textContent = "Your answer";
    $("submit-guess").textContent = "Submit answer";
  }

  // The lowest item number of a "reveal" widget that this seat has not seen (examples and its tests).
  function nextReveal() {
    const w = widget();
    const me = mySeat();
    const seen = new Set(((state.public && state.public.examples) || []).map((e) => e.input));
    ((me && me.steps) || []).filter((s) => s.kind === "test").forEach((s) => seen.add(s.input));
    for (let k = w.first || 1; k <= (w.last || 0); k++) if (!seen.has(k)) return k;
    return null;
  }

  // pick_pair: the options the family declares, then (with "grow") each text answer of this
  // seat's own tests, in the order first seen; the pickers keep their choice as the list grows.
  function pickOptions() {
    const w = widget();
    const known = (w.options || []).slice();
    const me = mySeat();
    if (w.grow && me && me.steps) {
      for (const s of me.steps) {
        if (s.kind === "test" && typeof s.result === "string" && !known.includes(s.result)) known.push(s.result);
      }
    }
    return known;
  }

  let pickedCount = -1;
  function refreshPickers() {
    if (widget().kind !== "pick_pair") return;
    const known = pickOptions();
    if (known.length === pickedCount) return;
    pickedCount = known.length;
    document.querySelectorAll("#test-inputs select[data-type=pick]").forEach((sel) => {
      const chosen = sel.value;
      sel.replaceChildren(...known.map((name) => el("option", { value: name, text: name })));
      if (known.includes(chosen)) sel.value = chosen;
    });
    const list = $("known-list");
    if (list) list.textContent = "You know " + known.length + ": " + known.join(", ") + ".";
  }

  // The value the widget holds, or a message saying what is wrong with it.
  function readInput() {
    const w = widget();
    if (w.kind === "grid") return { value: testEditor.value() };
    if (w.kind === "reveal") {
      const next = nextReveal();
      return next === null ? { error: "nothing is left to reveal", field: $("run-test") } : { value: next };
    }
    const fields = Array.from(document.querySelectorAll("#test-inputs .test-field"));
    if (w.kind === "string") return { value: fields[0].value };
    if (w.kind === "pick_pair") return { value: fields.map((f) => f.value) };
    if (w.kind === "integer_list") {
      const text = fields[0].value.trim();
      const parts = text ? text.split(/[\s,;]+/).filter(Boolean) : [];
      for (const part of parts) {
        if (!/^-?\d+$/.test(part)) return { error: "“" + part + "” is not a whole number; write whole numbers separated by commas", field: fields[0] };
      }
      return { value: parts.map(Number) };
    }
    const values = [];
    for (const i of fields) {
      const text = i.value.trim();
      const problem = numberProblem(text);
      if (problem) return { error: (i.labels && i.labels[0] ? i.labels[0].textContent.trim() : i.name) + ": " + problem, field: i };
      values.push(Number(text));
    }
    return { value: values };
  }

  // Why a typed number is not one number, or "" when it is (digits, one optional point, an
  // optional leading minus): no thousands separators, no exponents, nothing guessed.
  function numberProblem(text) {
    if (text === "") return "type a number";
    if (/^[-+]?(\d+\.?\d*|\.\d+)$/.test(text)) return "";
    if (/^[-+]?\d*,\d*$/.test(text)) return "“" + text + "” has a comma: one number per box, with a point for decimals (1.5)";
    if ((text.match(/\./g) || []).length > 1) return "“" + text + "” has more than one decimal point";
    if (/\s/.test(text)) return "“" + text + "” has a space: one number per box";
    return "“" + text + "” is not a number; write e.g. 3, -2 or 1.5";
  }

  function showInputError(read) {
    const box = $("input-error");
    document.querySelectorAll("#test-inputs .test-field").forEach((i) => i.removeAttribute("aria-invalid"));
    if (!read || !read.error) { box.textContent = ""; box.hidden = true; return; }
    box.textContent = read.error + ". No test was used.";
    box.hidden = false;
    read.field.setAttribute("aria-invalid", "true");
    read.field.focus();
  }

  function stepRow(s) {
    if (s.kind === "test") {
      const mark = s.result === true ? "✓ " : s.result === false ? "✗ " : "";
      const answer = present.gridsShown(shown()) ? el("td", {}, present.answerNode(shown(), s.result)) : el("td", { text: mark + answerText(s.result) });
      if (s.hypothesis) {
        answer.append(el("div", { class: "muted small step-hypothesis",
          text: "hypothesis: " + s.hypothesis.text + (s.hypothesis.parsed === false ? " (not a well-formed rule)" : "") }));
      }
      return el("tr", { class: present.answerClass(s.result) },
        el("td", { text: String(s.seq) }), el("td", {}, present.inputNode(shown(), s.input)), answer);
    }
    if (s.kind === "guess" && present.gridsShown(shown()) && window.ArenaGrid.isGrid(s.rule)) {
      const said = s.verdict ? (s.verdict.correct ? "right" : "not right") : "";
      const left = s.attempts_left ? " (" + present.plural(s.attempts_left, "attempt") + " left)" : "";
      return el("tr", { class: "other" }, el("td", { text: String(s.seq) }),
        el("td", {}, window.ArenaGrid.view(s.rule, { palette: guessWidget().palette, label: "answer", small: true })),
        el("td", { text: "answer: " + said + left }));
    }
    let text = s.kind;
    if (s.kind === "guess") text = "guess: " + s.rule + (s.verdict ? (s.verdict.correct ? " — correct" : " — wrong") : "");
    return el("tr", { class: "other" }, el("td", { text: String(s.seq) }), el("td", { colspan: "2", text }));
  }

  function renderSeats(me) {
    const box = $("seats");
    box.replaceChildren();
    const seats = cfg.spectate ? state.seats : state.seats.filter((s) => s === me).concat(state.seats.filter((s) => s !== me));
    for (const seat of seats) {
      const wrap = el("div", { class: "seat", "data-seat": String(seat.id) });
      if (cfg.spectate || seat !== me) wrap.append(rivalHeading(seat));
      if (seat.steps) {
        const table = el("table", { class: "table history" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "#" }), el("th", { scope: "col", text: "Input" }), el("th", { scope: "col", text: "Answer" }))));
        const body = el("tbody");
        seat.steps.forEach((s) => body.append(stepRow(s)));
        if (!seat.steps.length) body.append(el("tr", {}, el("td", { colspan: "3", class: "muted", text: "No moves yet." })));
        table.append(body);
        wrap.append(table);
      }
      box.append(wrap);
    }
  }

  // Race pacing: a rival's count of tests climbs one test at a time, each with a short
  // animation, so a model's turns read as they happen even when several arrive at once (a fast
  // solver's burst, a resync after a reconnect); its status shows once the count has caught up.
  // With prefers-reduced-motion the count is shown as it is, with no animation.
  const paced = {};            // seat id -> tests shown so far
  const newsDue = {};          // seat id -> a rival's finish to announce once its count is shown
  let paceTimer = null;
  const PACE_MS = 220;
  const reducedMotion = () => window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function rivalHeading(seat) {
    if (!(seat.id in paced) || reducedMotion() || state.reveal) paced[seat.id] = seat.tests_used;
    const shownCount = Math.min(paced[seat.id], seat.tests_used);
    const caughtUp = shownCount >= seat.tests_used;
    if (!caughtUp) schedulePace();
    return el("h3", {},
      seat.handle + " · ",
      el("span", { class: "rival-status", text: caughtUp ? seat.status : "playing" }),
      " · ",
      el("span", { class: "rival-tests", "data-tests": String(shownCount), text: present.plural(shownCount, "test") }));
  }

  function schedulePace() {
    if (paceTimer === null) paceTimer = setTimeout(paceStep, PACE_MS);
  }

  function paceStep() {
    paceTimer = null;
    if (!state) return;
    let behind = false;
    for (const seat of state.seats) {
      if (!(seat.id in paced) || paced[seat.id] >= seat.tests_used) continue;
      // a long burst still catches up within about three seconds
      paced[seat.id] = Math.min(seat.tests_used, paced[seat.id] + Math.max(1, Math.ceil((seat.tests_used - paced[seat.id]) / 14)));
      const wrap = document.querySelector('#seats .seat[data-seat="' + seat.id + '"]');
      const count = wrap && wrap.querySelector(".rival-tests");
      if (count) {
        count.textContent = present.plural(paced[seat.id], "test");
        count.dataset.tests = String(paced[seat.id]);
        count.classList.remove("tick");
        void count.offsetWidth;  // restart the animation
        count.classList.add("tick");
      }
      const status = wrap && wrap.querySelector(".rival-status");
      if (status && paced[seat.id] >= seat.tests_used) status.textContent = seat.status;
      if (paced[seat.id] >= seat.tests_used && newsDue[seat.id]) { delete newsDue[seat.id]; announceRival(seat); }
      if (paced[seat.id] < seat.tests_used) behind = true;
    }
    if (behind) schedulePace();
  }

  let revealShown = false;
  function renderReveal() {
    const r = state.reveal;
    if (!r) return;
    const section = $("reveal");
    section.hidden = false;
    $("reveal-rule").textContent = r.rule;
    $("race-result").textContent = r.race ? r.race.text : "";
    $("race-result").hidden = !r.race;
    const box = $("reveal-seats");
    box.replaceChildren();
    for (const s of r.seats) {
      const v = s.verdict;
      const lines = [el("h3", { text: s.handle })];
      const gridAnswers = present.gridsShown(shown()) && window.ArenaGrid.isGrid(s.guess);
      if (gridAnswers) lines.push(revealAttempts(s));
      else if (s.guess) lines.push(el("p", {}, "Guess: ", el("code", { text: s.guess })));
      if (v && gridAnswers) {
        lines.push(el("p", { class: v.correct ? "verdict yes" : "verdict no", text: v.correct ? "Right: the expected grid." : "Not the expected grid." }));
      } else if (v) {
        lines.push(el("p", { class: v.correct ? "verdict yes" : "verdict no", text: v.correct ? "Right: the same rule." : "Not the same rule." }));
        if (!v.correct && v.counterexample) {
          lines.push(el("p", { class: "counterexample", text: "Counterexample " + fmt(v.counterexample) + ": the hidden rule says " +
            answerText(v.hidden_answer) + ", the guess says " + answerText(v.guess_answer) + "." }));
        }
      } else if (hasGuess()) {
        lines.push(el("p", { class: "end-reason", text: "No guess (" + s.status + ")" + (s.reason ? ": " + s.reason : "") + "." }));
      } else if (s.reason) {
        lines.push(el("p", { class: "end-reason", text: "Ended (" + s.status + "): " + s.reason + "." }));
      }
      if (s.score) {
        lines.push(el("p", { class: "score", text: "Score: " + present.plural(s.score.points, "point") }));
        if (s.score_text) lines.push(el("p", { class: "score-text muted small", text: s.score_text }));
      }
      const q = s.quiz;
      if (q) {
        let text = "Quiz: " + q.correct_vs_hidden + "/" + q.items.length + " right for the hidden rule";
        if (q.correct_vs_own_rule !== null && q.correct_vs_own_rule !== undefined) {
          text += "; " + q.correct_vs_own_rule + "/" + q.items.length + " as the stated rule predicts";
        }
        lines.push(el("p", { class: "quiz-score", text: text + "." }));
      }
      const full = seatById(s.id);
      if (r.race && s.clock_s !== null && s.clock_s !== undefined) {
        // the race clock: a model's counts only its own calls, never the time its turns queued
        lines.push(el("p", { class: "race-clock muted small", text: "Time: " + s.clock_s.toFixed(1) + " s" +
          (full && full.kind === "model" ? " of the model's own thinking (its calls' latencies)" : " from the start") }));
      }
      if (full && full.kind === "model") {
        lines.push(el("p", {}, el("a", { href: "/matches/" + cfg.matchId + "/seats/" + s.id + "/trace/", class: "trace-link",
          text: "Full trace of " + s.handle })));
      }
      const won = r.race && r.race.winner === s.id;
      if (won) lines[0].append(el("span", { class: "badge", text: "winner" }));
      box.append(el("div", { class: "reveal-seat" + (won ? " winner" : ""), "data-seat": String(s.id) }, ...lines));
    }
    renderSamePuzzle();
    renderShareText(r);
    if (!revealShown) { revealShown = true; section.focus(); }
  }

  // Each attempt drawn next to the expected grid, the cells that differ marked (counterexample.cells).
  function revealAttempts(s) {
    const G = window.ArenaGrid;
    const pal = guessWidget().palette;
    const attempts = s.attempts || [{ guess: s.guess, verdict: s.verdict }];
    const expected = attempts.map((a) => a.verdict && a.verdict.hidden_answer).find((g) => g) || (s.verdict && s.verdict.correct ? s.guess : null);
    const box = el("div", { class: "reveal-attempts" });
    attempts.forEach((a, i) => {
      const v = a.verdict || {};
      const marks = (v.counterexample && v.counterexample.cells) || [];
      const caption = "Attempt " + (i + 1) + ": " + (v.correct ? "right" : "not right, " + Math.round((v.agreement || 0) * 100) + "% of cells, " +
        present.plural(marks.length, "cell") + " marked");
      box.append(el("figure", { class: "reveal-attempt" + (v.correct ? " right" : "") },
        el("figcaption", { text: caption }), G.view(a.guess, { palette: pal, label: "attempt " + (i + 1), marks })));
    });
    if (expected) box.append(el("figure", { class: "reveal-expected" }, el("figcaption", { text: "Expected" }), G.view(expected, { palette: pal, label: "expected" })));
    return box;
  }

  // A spoiler-free result to paste anywhere: the puzzle, solved or not, tests used, and one
  // symbol per test (fits / does not fit / another answer), never the inputs or the rule.
  function renderShareText(r) {
    const box = $("share-text");
    const me = mySeat();
    if (!box || !me) return;
    const mine = r.seats.find((s) => s.id === me.id);
    const solved = mine && mine.verdict && mine.verdict.correct;
    const marks = (me.steps || []).filter((s) => s.kind === "test")
      .map((s) => (s.result === true ? "🟩" : s.result === false || s.result === null ? "⬜" : "🟦")).join("");
    const outcome = hasGuess() ? (solved ? "Solved" : "Not solved")
      : present.plural((mine && mine.score && mine.score.points) || 0, "point");
    box.value = "Induction Arena · " + ((state.variant && state.variant.title) || "") + "\n" + outcome + " with " +
      present.plural(me.tests_used, "test") + "\n" + marks;
    $("share-result").hidden = false;
  }

  // How everyone else did on this very puzzle (a daily puzzle, a challenge): after the end only,
  // people as one row and each model as its own, beside your own result.
  function renderSamePuzzle() {
    const box = $("same-puzzle");
    const rows = state.same_puzzle;
    if (!box) return;
    box.replaceChildren();
    const daily = state.daily;
    if (daily && daily.streak) {
      box.append(el("p", { id: "daily-streak", class: "streak",
        text: "Your daily streak: " + present.plural(daily.streak, "day") + " in a row." }));
    }
    box.hidden = !box.childNodes.length && (!rows || !rows.length);
    if (!rows || !rows.length) return;
    box.append(el("h3", { id: "same-puzzle-h", text: daily ? "How people and models did on today's puzzle" : "Others on this same puzzle" }));
    const head = el("tr", {}, ...["Who", "Played", "Solved", "Solve rate", "Tests used when solved"].map((t) => el("th", { scope: "col", text: t })));
    const body = el("tbody");
    const me = mySeat();
    const myReveal = me && state.reveal && state.reveal.seats.find((s) => s.id === me.id);
    if (me && myReveal) {
      const solved = !!(myReveal.verdict && myReveal.verdict.correct);
      body.append(el("tr", { class: "you" }, el("th", { scope: "row", text: "You" }), el("td", { text: "1" }),
        el("td", { text: solved ? "1" : "0" }), el("td", { text: solved ? "100%" : "0%" }),
        el("td", { text: solved ? String(me.tests_used) : "–" })));
    }
    for (const r of rows) {
      const rate = r.played ? Math.round((100 * r.solved) / r.played) + "%" : "–";
      body.append(el("tr", { "data-who": r.who }, el("th", { scope: "row", text: r.who }), el("td", { text: String(r.played) }),
        el("td", { text: String(r.solved) }), el("td", { text: rate }),
        el("td", { text: r.mean_tests_when_solved === null ? "–" : String(r.mean_tests_when_solved) })));
    }
    box.append(el("table", { class: "table same-puzzle-table", "aria-labelledby": "same-puzzle-h" }, el("thead", {}, head), body));
  }

  function tick() {
    if (!state || !state.started) return;
    const start = Date.parse(state.started);
    const end = state.finished ? Date.parse(state.finished) : Date.now();
    let secs = Math.max(0, Math.floor((end - start) / 1000));
    let label = "";
    if (state.time_limit_s) { secs = Math.max(0, state.time_limit_s - secs); label = " left"; }
    $("timer").textContent = Math.floor(secs / 60) + ":" + String(secs % 60).padStart(2, "0") + label;
  }

  // -- actions -----------------------------------------------------------------------------------------
  function submitMove(msg) {
    if (pending) return;   // one move in flight: a double click applies once
    msg.id = moveId();
    msg.think_ms = Math.max(0, Date.now() - lastActionAt);
    pending = msg;
    showMessage("");
    send(msg);
    render();
  }

  if (!cfg.spectate) {
    $("test-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const read = readInput();
      showInputError(read);
      if (read.error) return;
      const move = { type: "test", input: read.value };
      if (hypothesisAsked()) {
        const stated = $("hypothesis").value.trim();
        if (!stated && hypothesisRequired()) {
          showMessage("State your current hypothesis before this test.");
          $("hypothesis").focus();
          return;
        }
        if (stated) move.hypothesis = stated;   // kept in the box: edit it as your idea changes
      }
      submitMove(move);
    });
    $("rule").addEventListener("input", () => {
      clearTimeout(checkTimer);
      const text = $("rule").value;
      if (!text.trim()) { $("rule-check").textContent = ""; $("rule-check").className = "rule-check"; return; }
      checkTimer = setTimeout(() => send({ type: "check_rule", rule: text }), 120);
    });
    $("guess-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const rule = guessEditor ? guessEditor.value() : $("rule").value.trim();
      if (!rule) { showMessage("Type a rule first, e.g. " + ruleExample()); $("rule").focus(); return; }
      const picks = Array.from(document.querySelectorAll("#quiz-items select")).map((sel) => sel.value);
      const answered = picks.filter((v) => v !== "");
      if (answered.length && answered.length !== picks.length) {
        showMessage("Answer every quiz item, or none of them."); return;
      }
      const move = { type: "guess", rule };
      if (answered.length) move.quiz = picks.map((v) => v === "yes");
      submitMove(move);
    });
  }

  setInterval(tick, 1000);
  connect();
})();
