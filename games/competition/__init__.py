"""Competition: the leaderboard and tournaments."""
