// How a family's inputs and answers are written on the pages, from the presentation the family
// declares (games/engine: widget, answer words). Shared by the match and replay pages; nothing
// here names a family.
(function () {
  "use strict";

  function cardText(w, rank, suit) {
    const r = (w.ranks || []).find((o) => o.value === rank);
    const s = (w.suits || []).find((o) => o.value === suit);
    return (r ? r.text : String(rank)) + (s ? s.symbol : "?");
  }

  function input(shown, v) {
    const w = (shown && shown.widget) || {};
    if (w.kind === "card_pair" && Array.isArray(v) && v.length === 4) {
      return cardText(w, v[0], v[1]) + " → " + cardText(w, v[2], v[3]);
    }
    if (w.kind === "integer_list" && Array.isArray(v)) return "[" + v.join(", ") + "]";
    if (w.kind === "reveal" && Number.isInteger(v)) return (w.label || "item") + " " + v;
    if (w.kind === "grid" && Array.isArray(v) && v.every(Array.isArray)) return v.map((r) => r.join("")).join(" / ");
    if (w.kind === "pick_pair" && Array.isArray(v)) return v.join(" + ");
    if (typeof v === "string") return JSON.stringify(v);
    return Array.isArray(v) ? "(" + v.join(", ") + ")" : JSON.stringify(v);
  }

  // The same text as input(), as a node whose suit symbols carry the tone the family declares
  // (a class the stylesheet colours; the symbol itself still says the suit, so colour is never
  // the only signal).
  // Grid values (value_display "grid"): a grid drawn as coloured cells, a pair {input, output}
  // as two; anything else falls back to the text forms.
  function gridsShown(shown) { return !!(shown && shown.value_display === "grid" && window.ArenaGrid); }
  function palette(shown) { return ((shown && shown.widget && shown.widget.palette) || (shown && shown.guess_widget && shown.guess_widget.palette)); }
  function valueNode(shown, v, label) {
    const G = window.ArenaGrid;
    if (gridsShown(shown) && G.isGrid(v)) return G.view(v, { palette: palette(shown), label, small: true });
    if (gridsShown(shown) && v && typeof v === "object" && G.isGrid(v.input) && G.isGrid(v.output)) {
      const span = document.createElement("span");
      span.className = "grid-pair";
      span.append(G.view(v.input, { palette: palette(shown), label: (label ? label + " " : "") + "input", small: true }), " → ",
        G.view(v.output, { palette: palette(shown), label: (label ? label + " " : "") + "output", small: true }));
      return span;
    }
    return null;
  }

  function answerNode(shown, a) {
    const node = valueNode(shown, a, "answer");
    if (node) return node;
    const span = document.createElement("span");
    span.textContent = answer(shown, a);
    return span;
  }

  function inputNode(shown, v) {
    const w = (shown && shown.widget) || {};
    const grid = valueNode(shown, v, "input");
    if (grid) return grid;
    const span = document.createElement("span");
    span.className = "input-text";
    if (w.kind !== "card_pair" || !Array.isArray(v) || v.length !== 4) {
      span.textContent = input(shown, v);
      return span;
    }
    const card = (rank, suit) => {
      const c = document.createElement("span");
      const s = (w.suits || []).find((o) => o.value === suit);
      c.className = "playing-card" + (s && s.tone ? " tone-" + s.tone : "");
      c.textContent = cardText(w, rank, suit);
      if (s) c.title = s.name;
      return c;
    };
    span.append(card(v[0], v[1]), " → ", card(v[2], v[3]));
    return span;
  }

  function plural(n, noun) { return n + " " + noun + (n === 1 ? "" : "s"); }

  // A boolean answer in the family's words ("fits the rule"), null and other values in its words
  // where it declares them ("null": "nothing happens", "value": "makes {}"); else "→ <JSON>".
  function answer(shown, a) {
    const words = (shown && shown.answer_words) || {};
    if (a === true && words.true) return words.true;
    if (a === false && words.false) return words.false;
    if (a === null && words.null) return words.null;
    if (a !== null && typeof a !== "boolean" && words.value) {
      return words.value.replace("{}", typeof a === "string" ? a : JSON.stringify(a));
    }
    return "→ " + JSON.stringify(a);
  }

  // "yes" / "no" for a boolean answer (the page colours them), "value" otherwise.
  function answerClass(a) { return a === true ? "yes" : a === false ? "no" : "value"; }

  window.ArenaPresent = { input, inputNode, answer, answerNode, answerClass, plural, valueNode, gridsShown };
})();
