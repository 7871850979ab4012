// Leaderboard and player-page charts, drawn with the vendored Chart.js from the data embedded in
// the page (#ratings-data): abilities with their 90 % intervals, solve rate against difficulty
// per kind of player, and (player page) ability over time.
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("ratings-data").textContent);
  const KIND_COLOUR = { human: "#1b1f24", people: "#1f5fbf", model: "#d1495b", agent: "#2a9d8f" };
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  const charts = {};
  window.arenaCharts = charts;

  function make(id, config) {
    const canvas = document.getElementById(id);
    if (canvas) charts[id] = new Chart(canvas, config);
  }

  if (data.abilities) {
    const rows = data.abilities;
    make("chart-abilities", {
      type: "bar",
      data: {
        labels: rows.map((r) => r.name + (r.provisional ? " (provisional)" : "")),
        datasets: [
          {
            label: "90% interval",
            data: rows.map((r) => [r.low, r.high]),
            backgroundColor: rows.map((r) => (KIND_COLOUR[r.kind] || "#5c6b73") + (r.provisional ? "44" : "99")),
            barPercentage: 0.5,
          },
          {
            type: "scatter",
            label: "ability",
            data: rows.map((r, i) => ({ x: r.ability, y: i })),
            backgroundColor: "#000",
            pointRadius: 3,
          },
        ],
      },
      options: {
        indexAxis: "y",
        scales: { x: { title: { display: true, text: "ability (logit scale)" } } },
        plugins: { legend: { display: true } },
      },
    });
  }

  if (data.calibration) {
    const kinds = [...new Set(data.calibration.map((c) => c.kind))];
    make("chart-calibration", {
      type: "line",
      data: {
        datasets: kinds.map((k) => ({
          label: k,
          data: data.calibration.filter((c) => c.kind === k).map((c) => ({ x: c.difficulty, y: c.solve_rate })),
          borderColor: KIND_COLOUR[k] || "#5c6b73",
          backgroundColor: KIND_COLOUR[k] || "#5c6b73",
        })),
      },
      options: {
        parsing: true,
        scales: {
          x: { type: "linear", title: { display: true, text: "puzzle difficulty (logit scale)" } },
          y: { min: 0, max: 1, title: { display: true, text: "solve rate" } },
        },
      },
    });
  }

  if (data.history) {
    const h = data.history;
    make("chart-history", {
      type: "line",
      data: {
        labels: h.map((p) => p.at.slice(0, 16).replace("T", " ")),
        datasets: [
          { label: "interval high", data: h.map((p) => p.high), borderColor: "#9bb5e0", pointRadius: 0, fill: false },
          { label: "ability", data: h.map((p) => p.ability), borderColor: "#1f5fbf" },
          { label: "interval low", data: h.map((p) => p.low), borderColor: "#9bb5e0", pointRadius: 0, fill: "-2", backgroundColor: "#1f5fbf22" },
        ],
      },
      options: { scales: { y: { title: { display: true, text: "ability" } } } },
    });
  }
})();
