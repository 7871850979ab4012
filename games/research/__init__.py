"""Research: exports, per-step analytics, the dashboard, replays and downloads."""
