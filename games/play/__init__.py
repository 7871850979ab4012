"""Play: matches, seats and steps. The write path (services), reads (selectors), events, the visibility rule, limits, the match socket and pages."""
