// Grids of colours 0-9: drawn read-only (view) and edited (editor). Used by the match and replay
// pages wherever a family declares grid values (Presentation.value_display "grid", widget kind
// "grid"); the palette's names come from the widget's options. Nothing here names a family.
(function () {
  "use strict";

  const DEFAULT_NAMES = ["black", "blue", "red", "green", "yellow", "grey", "magenta", "orange", "light blue", "maroon"];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }

  function names(palette) {
    return palette && palette.length ? palette.map((p) => p.name) : DEFAULT_NAMES;
  }

  function isGrid(v) {
    return Array.isArray(v) && v.length > 0 && v.every((row) => Array.isArray(row) && row.length > 0 &&
      row.every((c) => Number.isInteger(c) && c >= 0 && c <= 9));
  }

  // A read-only grid: a table whose cells a screen reader names ("row 2, column 3: red");
  // ``marks`` ("r,c" keys, 0-based) outline cells, e.g. where an answer differs from the expected one.
  function view(grid, opts) {
    const o = opts || {};
    const colourNames = names(o.palette);
    const marks = new Set((o.marks || []).map((m) => m[0] + "," + m[1]));
    const table = el("table", { class: "grid-view" + (o.small ? " small" : ""), role: "table",
      "aria-label": (o.label ? o.label + ": " : "") + grid.length + " by " + grid[0].length + " grid" });
    const body = el("tbody");
    grid.forEach((row, r) => {
      const tr = el("tr");
      row.forEach((c, col) => {
        const marked = marks.has(r + "," + col);
        tr.append(el("td", { class: "cell c" + c + (marked ? " marked" : ""),
          "aria-label": "row " + (r + 1) + ", column " + (col + 1) + ": " + colourNames[c] + (marked ? ", differs" : "") }));
      });
      body.append(tr);
    });
    table.append(body);
    return table;
  }

  // The editor: palette, paint (click and drag) and flood fill tools, copy a given grid, resize,
  // undo, and the keyboard (arrow keys move the cursor, digits 0-9 paint it, f fills, ctrl+z undoes).
  function editor(opts) {
    const o = opts || {};
    const prefix = o.id || "grid";
    const colourNames = names(o.palette);
    const maxSide = o.maxSide || 30;
    let grid = isGrid(o.initial) ? o.initial.map((r) => r.slice()) : [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
    let colour = 1;
    let tool = "paint";
    let cursor = [0, 0];
    let drawing = false;
    const history = [];
    let disabled = false;

    const root = el("div", { class: "grid-editor", id: prefix + "-editor" });
    const palette = el("div", { class: "palette", role: "radiogroup", "aria-label": "Colour" });
    const swatches = colourNames.map((name, i) => {
      const b = el("button", { type: "button", class: "swatch c" + i, role: "radio", "aria-checked": i === colour ? "true" : "false",
        "aria-label": i + ": " + name, title: i + ": " + name, "data-colour": String(i) }, el("span", { text: String(i) }));
      b.addEventListener("click", () => pick(i));
      palette.append(b);
      return b;
    });
    const paintBtn = el("button", { type: "button", class: "tool", "aria-pressed": "true", id: prefix + "-paint" }, "Paint");
    const fillBtn = el("button", { type: "button", class: "tool", "aria-pressed": "false", id: prefix + "-fill" }, "Flood fill");
    const undoBtn = el("button", { type: "button", class: "tool", id: prefix + "-undo" }, "Undo");
    const copyBtn = o.copyFrom ? el("button", { type: "button", class: "tool", id: prefix + "-copy" }, o.copyLabel || "Copy the test input") : null;
    const rowsIn = el("input", { type: "number", min: "1", max: String(maxSide), id: prefix + "-rows", class: "side" });
    const colsIn = el("input", { type: "number", min: "1", max: String(maxSide), id: prefix + "-cols", class: "side" });
    const resizeBtn = el("button", { type: "button", class: "tool", id: prefix + "-resize" }, "Resize");
    const tools = el("div", { class: "grid-tools" }, paintBtn, fillBtn, undoBtn, copyBtn,
      el("label", { for: prefix + "-rows" }, "Rows ", rowsIn), el("label", { for: prefix + "-cols" }, "Columns ", colsIn), resizeBtn);
    const status = el("p", { class: "grid-status muted small", "aria-live": "polite", id: prefix + "-status" });
    const table = el("table", { class: "grid-edit", role: "grid", id: prefix + "-grid",
      "aria-label": (o.label || "Grid") + " (arrow keys move, digits 0-9 paint, f fills, ctrl+z undoes)" });
    root.append(palette, tools, table, status);

    function snapshot() { history.push(grid.map((r) => r.slice())); if (history.length > 200) history.shift(); }
    function pick(i) {
      colour = i;
      swatches.forEach((b, k) => b.setAttribute("aria-checked", k === i ? "true" : "false"));
      status.textContent = "Colour " + i + ": " + colourNames[i];
    }
    function setTool(t) {
      tool = t;
      paintBtn.setAttribute("aria-pressed", t === "paint" ? "true" : "false");
      fillBtn.setAttribute("aria-pressed", t === "fill" ? "true" : "false");
    }
    function cellLabel(r, c) { return "row " + (r + 1) + ", column " + (c + 1) + ": " + colourNames[grid[r][c]]; }
    function cellAt(r, c) { return table.rows[r] && table.rows[r].cells[c]; }
    function refreshCell(r, c) {
      const td = cellAt(r, c);
      if (!td) return;
      td.className = "cell c" + grid[r][c];
      td.setAttribute("aria-label", cellLabel(r, c));
    }
    function draw() {
      const hadFocus = table.contains(document.activeElement);  // keep the keyboard where it was
      table.replaceChildren();
      const body = el("tbody");
      grid.forEach((row, r) => {
        const tr = el("tr", { role: "row" });
        row.forEach((_, c) => {
          const td = el("td", { role: "gridcell", tabindex: r === cursor[0] && c === cursor[1] ? "0" : "-1",
            "data-row": String(r), "data-col": String(c) });
          td.addEventListener("mousedown", (e) => { if (disabled) return; e.preventDefault(); drawing = true; snapshot(); act(r, c); focus(r, c); });
          td.addEventListener("mouseenter", () => { if (drawing && tool === "paint" && !disabled) paint(r, c); });
          tr.append(td);
        });
        body.append(tr);
      });
      table.append(body);
      for (let r = 0; r < grid.length; r++) for (let c = 0; c < grid[0].length; c++) refreshCell(r, c);
      rowsIn.value = String(grid.length);
      colsIn.value = String(grid[0].length);
      if (hadFocus) focus(cursor[0], cursor[1]);
    }
    function paint(r, c) { grid[r][c] = colour; refreshCell(r, c); }
    function flood(r, c) {
      const from = grid[r][c];
      if (from === colour) return;
      const stack = [[r, c]];
      while (stack.length) {
        const [y, x] = stack.pop();
        if (y < 0 || x < 0 || y >= grid.length || x >= grid[0].length || grid[y][x] !== from) continue;
        grid[y][x] = colour;
        refreshCell(y, x);
        stack.push([y + 1, x], [y - 1, x], [y, x + 1], [y, x - 1]);
      }
    }
    function act(r, c) { if (tool === "fill") flood(r, c); else paint(r, c); }
    function focus(r, c) {
      const old = cellAt(cursor[0], cursor[1]);
      if (old) old.setAttribute("tabindex", "-1");
      cursor = [r, c];
      const td = cellAt(r, c);
      if (td) { td.setAttribute("tabindex", "0"); td.focus(); }
    }
    function undo() {
      if (!history.length) { status.textContent = "Nothing to undo"; return; }
      grid = history.pop();
      cursor = [Math.min(cursor[0], grid.length - 1), Math.min(cursor[1], grid[0].length - 1)];
      draw();
      status.textContent = "Undone";
    }
    function resize(rows, cols) {
      if (!(rows >= 1 && rows <= maxSide && cols >= 1 && cols <= maxSide)) {
        status.textContent = "Rows and columns are 1 to " + maxSide; return;
      }
      snapshot();
      grid = Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => (grid[r] && grid[r][c] !== undefined ? grid[r][c] : 0)));
      cursor = [Math.min(cursor[0], rows - 1), Math.min(cursor[1], cols - 1)];
      draw();
      status.textContent = "Grid is " + rows + " by " + cols;
    }
    document.addEventListener("mouseup", () => { drawing = false; });
    paintBtn.addEventListener("click", () => setTool("paint"));
    fillBtn.addEventListener("click", () => setTool("fill"));
    undoBtn.addEventListener("click", undo);
    resizeBtn.addEventListener("click", () => resize(Number(rowsIn.value), Number(colsIn.value)));
    if (copyBtn) copyBtn.addEventListener("click", () => {
      const src = o.copyFrom();
      if (!isGrid(src)) return;
      snapshot(); grid = src.map((r) => r.slice()); cursor = [0, 0]; draw();
      status.textContent = "Copied the test input";
    });
    table.addEventListener("keydown", (e) => {
      if (disabled) return;
      const [r, c] = cursor;
      const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
      if (moves[e.key]) {
        e.preventDefault();
        focus(Math.max(0, Math.min(grid.length - 1, r + moves[e.key][0])), Math.max(0, Math.min(grid[0].length - 1, c + moves[e.key][1])));
      } else if (/^[0-9]$/.test(e.key) && !e.ctrlKey && !e.metaKey) {
        e.preventDefault(); pick(Number(e.key)); snapshot(); paint(r, c);
      } else if (e.key === " " || e.key === "Enter") {
        e.preventDefault(); snapshot(); act(r, c);
      } else if (e.key === "f" || e.key === "F") {
        e.preventDefault(); snapshot(); flood(r, c);
      } else if ((e.ctrlKey || e.metaKey) && (e.key === "z" || e.key === "Z")) {
        e.preventDefault(); undo();
      }
    });
    draw();
    return {
      node: root,
      value: () => grid.map((r) => r.slice()),
      setValue: (g) => { if (isGrid(g)) { grid = g.map((r) => r.slice()); draw(); } },
      setDisabled: (d) => { disabled = !!d; root.classList.toggle("disabled", disabled); },
    };
  }

  window.ArenaGrid = { view, editor, isGrid };
})();
