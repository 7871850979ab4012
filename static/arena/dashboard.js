// Research dashboard charts, drawn with the vendored Chart.js (static/vendor/chartjs) from the
// rows embedded in the page (#dashboard-data), the same rows the CSV/JSON downloads serve.
(function () {
  "use strict";

  const plots = JSON.parse(document.getElementById("dashboard-data").textContent);
  const PALETTE = ["#1f5fbf", "#d1495b", "#2a9d8f", "#e9a03b", "#7b4fb0", "#5c6b73", "#b5651d", "#3a86ff"];
  const HUMAN_COLOUR = "#1b1f24";

  function playersOf(rows) {
    const seen = [];
    for (const r of rows) if (!seen.includes(r.player)) seen.push(r.player);
    return seen;
  }
  const allPlayers = [];
  for (const rows of Object.values(plots)) for (const p of playersOf(rows)) if (!allPlayers.includes(p)) allPlayers.push(p);
  function colour(player) {
    if (player === "humans") return HUMAN_COLOUR;
    const models = allPlayers.filter((p) => p !== "humans");
    return PALETTE[models.indexOf(player) % PALETTE.length];
  }

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.animation = false; // static figures: screenshots and print match what was computed
  Chart.defaults.maintainAspectRatio = false;

  const charts = {};
  window.arenaCharts = charts;

  function make(slug, config) {
    const canvas = document.getElementById("chart-" + slug);
    if (!canvas) return;
    charts[slug] = new Chart(canvas, config);
  }

  // Solve rate vs tier: grouped bars, one group per tier, one bar per player.
  (function () {
    // A tier is a level within its family: one group per (family, tier), never pooled.
    const rows = plots["solve-rate"];
    const key = (r) => r.family + "\u0000" + r.tier;
    const groups = [...new Map(rows.map((r) => [key(r), r])).values()]
      .sort((a, b) => (a.family < b.family ? -1 : a.family > b.family ? 1 : a.tier - b.tier));
    const families = new Set(rows.map((r) => r.family));
    make("solve-rate", {
      type: "bar",
      data: {
        labels: groups.map((g) => (families.size > 1 ? g.family + " tier " : "Tier ") + g.tier),
        datasets: playersOf(rows).map((player) => ({
          label: player,
          backgroundColor: colour(player),
          data: groups.map((g) => {
            const r = rows.find((x) => x.player === player && key(x) === key(g));
            return r ? Math.round(r.solve_rate * 1000) / 10 : null;
          }),
          seats: groups.map((g) => {
            const r = rows.find((x) => x.player === player && key(x) === key(g));
            return r ? r.seats : 0;
          }),
        })),
      },
      options: {
        scales: { y: { min: 0, max: 100, title: { display: true, text: "solved (% of seats)" } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => ctx.dataset.label + ": " + ctx.parsed.y + "% of " + ctx.dataset.seats[ctx.dataIndex] + " seats",
            },
          },
        },
      },
    });
  })();

  // Tests used: the distribution per player as a share of that player's seats.
  (function () {
    const rows = plots["tests-used"];
    const max = rows.reduce((m, r) => Math.max(m, r.tests_used), 0);
    const labels = Array.from({ length: max + 1 }, (_, i) => i);
    make("tests-used", {
      type: "bar",
      data: {
        labels: labels.map(String),
        datasets: playersOf(rows).map((player) => ({
          label: player,
          backgroundColor: colour(player),
          data: labels.map((n) => {
            const r = rows.find((x) => x.player === player && x.tests_used === n);
            return r ? Math.round(r.share * 1000) / 10 : 0;
          }),
        })),
      },
      options: {
        scales: {
          x: { title: { display: true, text: "tests used" } },
          y: { min: 0, title: { display: true, text: "% of the player's seats" } },
        },
      },
    });
  })();

  // Surviving hypotheses after k tests: one line per player, log scale.
  (function () {
    const rows = plots["surviving"];
    make("surviving", {
      type: "line",
      data: {
        datasets: playersOf(rows).map((player) => ({
          label: player,
          borderColor: colour(player),
          backgroundColor: colour(player),
          tension: 0.15,
          data: rows.filter((r) => r.player === player)
            .map((r) => ({ x: r.step, y: r.mean_surviving > 0 ? r.mean_surviving : null, seats: r.seats })),
        })),
      },
      options: {
        parsing: { xAxisKey: "x", yAxisKey: "y" },
        scales: {
          x: { type: "linear", min: 0, ticks: { precision: 0 }, title: { display: true, text: "tests run (0 = after the examples)" } },
          y: { type: "logarithmic", title: { display: true, text: "mean surviving hypotheses (log)" } },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => ctx.dataset.label + ": " + Math.round(ctx.parsed.y).toLocaleString("en") +
                " (" + ctx.raw.seats + " seats)",
            },
          },
        },
      },
    });
  })();

  // Positive-test bias: per player, the share of positive tests, of confirmed predictions and of
  // tests run under an already-refuted hypothesis (grouped bars, one group per player).
  (function () {
    const rows = plots["positive-tests"] || [];
    if (!rows.length) return;
    const measures = [
      ["positive_share", "positive tests", "#1f5fbf"],
      ["confirmed_share", "answer confirmed the hypothesis", "#2a9d8f"],
      ["refuted_kept_share", "hypothesis already refuted", "#d1495b"],
    ];
    make("positive-tests", {
      type: "bar",
      data: {
        labels: rows.map((r) => r.player),
        datasets: measures.map(([key, label, tone]) => ({
          label: label,
          backgroundColor: tone,
          data: rows.map((r) => (r[key] === null ? null : Math.round(r[key] * 1000) / 10)),
          tests: rows.map((r) => r.hypotheses_parsed),
        })),
      },
      options: {
        scales: { y: { min: 0, max: 100, title: { display: true, text: "% of tests with a stated rule" } } },
        plugins: {
          tooltip: {
            callbacks: {
              label: (ctx) => ctx.dataset.label + ": " + ctx.parsed.y + "% of " + ctx.dataset.tests[ctx.dataIndex] + " tests",
            },
          },
        },
      },
    });
  })();
})();
