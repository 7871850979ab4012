"""OpenAPI 3.1 description of the agent API, served at /api/openapi.json and rendered at /api/docs.

Kept by hand next to the views; a test checks it lists every route under /api/v1/.
"""

from __future__ import annotations

import copy
import json
from typing import Any


def _error(description: str, example: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": {"error": example},
            }
        },
    }


UNAUTHORIZED = _error(
    "Missing or invalid token.",
    "missing or invalid API token; send 'Authorization: Bearer <token>' (an admin makes one with "
    "`python manage.py create_agent_token NAME`)",
)
RATE_LIMITED = {
    **_error(
        "Too many requests for this token in the last 60 seconds (a sliding window, counted in "
        "five-second buckets; refused requests do not count); wait Retry-After seconds.",
        "rate limit: at most 600 requests in any 60 seconds per token; retry after 17 s",
    ),
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}},
}
BODY_TOO_LARGE = _error(
    "The body is larger than 64 KiB (65,536 bytes).",
    "the request body is too large: 2,000,052 bytes (at most 65,536)",
)
NOT_ALLOWED = _error(
    "Wrong HTTP method; the Allow header lists the right ones.", "GET is not allowed here; allowed: POST"
)

OBSERVATION_EXAMPLE = {
    "seat": {
        "id": 12,
        "handle": "my-agent",
        "kind": "agent",
        "status": "playing",
        "tests_used": 1,
        "tests_left": 29,
        "outcome": None,
        "score": None,
    },
    "public": {
        "family": "wason",
        "variables": ["x", "y", "z"],
        "tier": 1,
        "max_tests": 30,
        "input_bound": 1000000.0,
        "examples": [{"input": [2, 4, 6], "result": True}],
    },
    "history": [{"input": [1, 2, 3], "result": True}],
    "tests_left": 29,
    "text": "Examples given with the puzzle:\n  (2, 4, 6) -> True\nYour tests so far:\n  1. (1, 2, 3) -> True\nTests left: 29.",
    "description": "There is a hidden rule about triples of numbers (x, y, z). ...",
}

SCORE_EXAMPLE = {"solved": True, "tests_used": 3, "max_tests": 30, "agreement": 1.0, "points": 95}

RESEARCH_ONLY = _error(
    "The token may not read research data.",
    "this token may not read research data; an admin makes a research token with "
    "`python manage.py create_agent_token NAME --research`",
)


TOURNAMENT_EXAMPLE = {
    "slug": "december-cup",
    "title": "December cup",
    "status": "running",
    "starts_at": "2026-12-01T09:00:00+00:00",
    "started": "2026-12-01T09:00:01+00:00",
    "finished": None,
    "progress": {"rounds": 100, "done": 37, "running": 4, "pending": 59, "note": ""},
}

TOURNAMENT_DETAIL_EXAMPLE = {
    **TOURNAMENT_EXAMPLE,
    "description": "",
    "seeds": "0-49",
    "concurrency": 4,
    "variants": ["wason-tier-1", "wason-tier-2"],
    "contestants": ["infogain", "random-tester"],
    "standings": [],
    "rounds_page": {"page": 1, "limit": 100, "pages": 1, "count": 100},
    "rounds": [
        {
            "variant": "wason-tier-1",
            "variant_title": "Tier 1",
            "seed": 0,
            "match": 41,
            "status": "finished",
            "winners": ["Info-gain solver"],
        }
    ],
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


RESEARCH_FILTERS = [
    _query("family", "only this puzzle family", {"type": "string"}),
    _query("variant", "only this variant (slug)", {"type": "string"}),
    _query(
        "kind",
        "only matches with a seat of this kind",
        {"type": "string", "enum": ["human", "model", "agent"]},
    ),
    _query("contestant", "only matches with a seat of this model contestant (slug)", {"type": "string"}),
    _query("since", "matches created on or after (YYYY-MM-DD or ISO 8601)", {"type": "string"}),
    _query("until", "matches created up to (YYYY-MM-DD: the whole day, or ISO 8601)", {"type": "string"}),
    _query("finished", "1 = finished matches only", {"type": "integer", "enum": [0, 1]}),
    _query("tournament", "only the races of this tournament (slug)", {"type": "string"}),
]
PAGINATION = [
    _query("page", "1-based page", {"type": "integer", "minimum": 1, "default": 1}),
    _query("page_size", "matches per page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}),
]

RESEARCH_SEAT_EXAMPLE = {
    "seat_id": 12,
    "match_id": 5,
    "kind": "human",
    "player": "h_3fa2c19be07d4a51e8c2",
    "contestant": None,
    "status": "finished",
    "solved": True,
    "tests_used": 3,
    "steps_count": 4,
    "guess": "x < y < z",
    "guess_correct": True,
    "agreement": 1.0,
    "guess_size": 5,
    "hidden_size": 5,
    "parsimony": 1.0,
    "points": 95,
    "outcome": {"guess": "x < y < z", "verdict": {"correct": True}},
    "score": SCORE_EXAMPLE,
    "joined": "2025-01-01T12:00:00+00:00",
    "finished": "2025-01-01T12:01:10+00:00",
    "model_calls_count": 0,
    "tokens_in": 0,
    "tokens_out": 0,
    "cost_usd": 0.0,
}
RESEARCH_MATCH_EXAMPLE: dict[str, Any] = {
    "match_id": 5,
    "family": "wason",
    "variant": "wason-tier-1",
    "instance_id": 3,
    "seed": 7,
    "generator_version": 1,
    "params": {"tier": 1, "max_tests": 30},
    "public": {"family": "wason", "examples": [{"input": [2, 4, 6], "result": True}]},
    "mode": "solo",
    "status": "finished",
    "max_tests": 30,
    "time_limit_s": None,
    "created": "2025-01-01T12:00:00+00:00",
    "started": "2025-01-01T12:00:00+00:00",
    "finished": "2025-01-01T12:01:10+00:00",
    "hidden": {"rule": "x < y < z", "size": 5},
    "hidden_rule": "x < y < z",
    "hidden_size": 5,
    "seats_count": 1,
    "seats": [
        {
            **RESEARCH_SEAT_EXAMPLE,
            "bits_total": 6.2,
            "redundant_tests": 0,
            "steps": [
                {
                    "step_id": 40,
                    "seat_id": 12,
                    "match_id": 5,
                    "seq": 1,
                    "kind": "test",
                    "created_at": "2025-01-01T12:00:09+00:00",
                    "since_prev_ms": 9120,
                    "client_think_ms": 8800,
                    "test_index": 1,
                    "test_input": [1, 2, 3],
                    "test_result": True,
                    "guess": None,
                    "guess_correct": None,
                    "action": {"input": [1, 2, 3]},
                    "result": {"result": True},
                    "surviving_before": 1310,
                    "surviving": 402,
                    "bits": 1.7,
                    "redundant": False,
                    "p_true": 0.31,
                    "space_exhausted": False,
                }
            ],
            "model_calls": [],
        }
    ],
}
RESEARCH_PAGE_EXAMPLE = {
    "count": 1,
    "page": 1,
    "page_size": 50,
    "pages": 1,
    "schema_version": 2,
    "filters": {"family": "wason", "finished_only": True},
    "matches": [
        {
            **{k: v for k, v in RESEARCH_MATCH_EXAMPLE.items() if k != "seats"},
            "seats": [
                {
                    **RESEARCH_SEAT_EXAMPLE,
                    "steps": {
                        "count": 4,
                        "by_kind": {"test": 3, "guess": 1},
                        "first_at": "2025-01-01T12:00:09+00:00",
                        "last_at": "2025-01-01T12:01:10+00:00",
                        "client_think_ms_total": 61000,
                    },
                }
            ],
        }
    ],
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Induction Arena agent API",
        "version": "1.0.0",
        "description": (
            "Play the arena's induction puzzles from a script or an agent, exactly as a person or a "
            "built-in model does: same observation, same test budget, same judge. Create a match "
            "(optionally racing model contestants on the same instance), run tests, then state the "
            "rule once. The hidden rule is never in a response until the match is over.\n\n"
            "Every request needs `Authorization: Bearer <token>`; an admin makes a token with "
            "`python manage.py create_agent_token NAME`. Requests are rate-limited per token "
            "(default 600 in any 60 seconds, a sliding window; 429 with Retry-After beyond that). "
            "Every error is "
            '`{"error": "<message>"}` with its status code.\n\n'
            "Limits on input: a request body is one JSON object of at most 64 KiB (413 beyond), "
            "nested at most 32 arrays/objects deep, in UTF-8 (400 otherwise); a whole number in a "
            "query string is plain ASCII digits within the parameter's range (400 otherwise, naming "
            "the parameter and the range); a tournament title is at most 120 characters, its "
            "description at most 4,000, its slug 1-80 letters, digits, '-' or '_', and it has at most "
            "2,000 rounds (variants x seeds; the server's ARENA_TOURNAMENT_MAX_ROUNDS)."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/variants": {
            "get": {
                "operationId": "listVariants",
                "summary": "Published puzzle variants",
                "description": "What there is to play: each variant's slug (for POST /api/v1/matches), family, title and budgets.",
                "responses": {
                    "200": {
                        "description": "The published variants.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "variants": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Variant"},
                                        }
                                    },
                                },
                                "example": {
                                    "variants": [
                                        {
                                            "slug": "wason-tier-1",
                                            "family": "wason",
                                            "title": "Triples, tier 1",
                                            "description": "",
                                            "budgets": {"max_tests": 30, "time_limit_s": None},
                                        }
                                    ]
                                },
                            }
                        },
                    },
                    "401": UNAUTHORIZED,
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            }
        },
        "/api/v1/contestants": {
            "get": {
                "operationId": "listContestants",
                "summary": "Enabled model contestants",
                "description": "Whom you can race: pass their slugs as `opponents` when creating a match.",
                "responses": {
                    "200": {
                        "description": "The enabled contestants.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "contestants": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Contestant"},
                                        }
                                    },
                                },
                                "example": {
                                    "contestants": [
                                        {"slug": "infogain", "name": "Info-gain solver", "backend": "builtin"}
                                    ]
                                },
                            }
                        },
                    },
                    "401": UNAUTHORIZED,
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            }
        },
        "/api/v1/leaderboard": {
            "get": {
                "operationId": "getLeaderboard",
                "summary": "Players ranked",
                "description": (
                    "People, models and agents ranked by mean points per finished match (a solve "
                    "scores 50-100, more for fewer tests; a miss scores 0), then by solves. Guests "
                    "appear by their pseudonymous handle. Aborted matches do not count."
                ),
                "parameters": [
                    _query("variant", "only this published variant (slug)", {"type": "string"}),
                    _query("kind", "only this kind of player", {"enum": ["human", "model", "agent"]}),
                    _query("limit", "at most this many rows (1-1000, default 100)", {"type": "integer"}),
                ],
                "responses": {
                    "200": {
                        "description": "The ranking.",
                        "content": {
                            "application/json": {
                                "example": {
                                    "variant": "wason-tier-1",
                                    "kind": None,
                                    "players": [
                                        {
                                            "rank": 1,
                                            "name": "Infogain solver",
                                            "kind": "model",
                                            "matches": 12,
                                            "solved": 12,
                                            "solve_rate": 1.0,
                                            "mean_points": 61.5,
                                            "best_points": 70,
                                            "mean_tests_when_solved": 23.1,
                                            "last_played": "2026-11-30T06:00:00+00:00",
                                        }
                                    ],
                                }
                            }
                        },
                    },
                    "400": _error(
                        "A bad kind or limit.", "kind must be one of human, model, agent; got 'robot'"
                    ),
                    "401": UNAUTHORIZED,
                    "404": _error(
                        "No such published variant.",
                        "no published variant 'nope'; GET /api/v1/variants lists them",
                    ),
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            }
        },
        "/api/v1/tournaments": {
            "get": {
                "operationId": "listTournaments",
                "summary": "Tournaments and their progress",
                "description": "Published tournaments (a research token sees all), newest first.",
                "responses": {
                    "200": {
                        "description": "The tournaments.",
                        "content": {"application/json": {"example": {"tournaments": [TOURNAMENT_EXAMPLE]}}},
                    },
                    "401": UNAUTHORIZED,
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            },
            "post": {
                "operationId": "createTournament",
                "summary": "Schedule a tournament (research tokens)",
                "description": (
                    "Every listed contestant races the others on each (variant, seed): one round per "
                    "pair, all on the same instance, `concurrency` rounds at a time, from `starts_at` "
                    "(or at once). Follow it with GET /api/v1/tournaments/{slug}."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "example": {
                                "slug": "december-cup",
                                "title": "December cup",
                                "variants": ["wason-tier-1", "wason-tier-2"],
                                "contestants": ["infogain", "random-tester"],
                                "seeds": "0-49",
                                "concurrency": 4,
                                "starts_at": "2026-12-01T09:00:00+00:00",
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "Scheduled.",
                        "content": {"application/json": {"example": TOURNAMENT_EXAMPLE}},
                    },
                    "400": {
                        **_error("A bad field.", "bad seed range '9-1': the end is before the start"),
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Error"},
                                "examples": {
                                    "seeds": {
                                        "value": {
                                            "error": "bad seed range '9-1': the end is before the start"
                                        }
                                    },
                                    "too many rounds": {
                                        "value": {
                                            "error": "2 variant(s) x 5,000 seeds is 10,000 rounds; a tournament "
                                            "has at most 2,000 (ARENA_TOURNAMENT_MAX_ROUNDS): use fewer seeds "
                                            "or variants, or split it"
                                        }
                                    },
                                    "long text": {
                                        "value": {
                                            "error": "a tournament description is at most 4,000 characters; "
                                            "this one has 5,120"
                                        }
                                    },
                                    "deep JSON": {
                                        "value": {
                                            "error": "the request body is nested too deeply: 1000 levels of "
                                            "arrays/objects (at most 32)"
                                        }
                                    },
                                },
                            }
                        },
                    },
                    "401": UNAUTHORIZED,
                    "403": _error(
                        "Not a research token.",
                        "only research tokens may schedule tournaments; an admin makes one with "
                        "`python manage.py create_agent_token NAME --research`",
                    ),
                    "404": _error("An unknown variant or contestant.", "no enabled contestant 'gpt-9'"),
                    "405": NOT_ALLOWED,
                    "409": _error("The slug is taken.", "there is already a tournament 'december-cup'"),
                    "429": RATE_LIMITED,
                },
            },
        },
        "/api/v1/tournaments/{slug}": {
            "get": {
                "operationId": "getTournament",
                "summary": "One tournament: progress, standings, a page of rounds",
                "description": (
                    "Rounds come a page at a time (`page`, `limit`), in puzzle and seed order; "
                    "`rounds_page` says which page this is and how many there are."
                ),
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                    _query("page", "1-based page of rounds", {"type": "integer", "minimum": 1, "default": 1}),
                    _query(
                        "limit",
                        "rounds per page",
                        {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "The tournament, with standings ranked as on the leaderboard and one "
                        "page of rounds, each with its race (match id, status, winners).",
                        "content": {"application/json": {"example": TOURNAMENT_DETAIL_EXAMPLE}},
                    },
                    "400": _error(
                        "A bad page or limit.",
                        "limit must be a whole number from 1 to 500 in digits 0-9; got '²'",
                    ),
                    "401": UNAUTHORIZED,
                    "404": _error(
                        "No such tournament, or the page is past the last one.",
                        "no tournament 'nope'; GET /api/v1/tournaments lists them",
                    ),
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            }
        },
        "/api/v1/matches": {
            "post": {
                "operationId": "createMatch",
                "summary": "Create and start a match",
                "description": (
                    "Makes a match on one puzzle instance with a seat for you (owned by your token) and "
                    "one seat per opponent, and starts it at once: model opponents begin when you do."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/MatchCreate"},
                            "example": {"variant": "wason-tier-1", "seed": 7, "opponents": ["infogain"]},
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "The match is running; play through your seat.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/MatchCreated"},
                                "example": {
                                    "match": 5,
                                    "seat": 12,
                                    "status": "running",
                                    "mode": "race",
                                    "ranked": True,
                                    "observation": {
                                        **OBSERVATION_EXAMPLE,
                                        "history": [],
                                        "tests_left": 30,
                                    },
                                },
                            }
                        },
                    },
                    "400": _error(
                        "Bad JSON or bad fields.",
                        '"seed" must be a whole number from 0 to 9223372036854775807, or left out for a random one',
                    ),
                    "401": UNAUTHORIZED,
                    "404": _error(
                        "Unknown variant or contestant.",
                        "no published variant 'wason-tier-9'; see GET /api/v1/variants",
                    ),
                    "405": NOT_ALLOWED,
                    "429": {
                        **_error(
                            "Over the per-token request rate, or at a fair-play cap: this token or "
                            "this client address has as many matches in play as it may have at once "
                            "(finish or forfeit one; no Retry-After), or has started as many as it may "
                            "in an hour (Retry-After says when the next one may start).",
                            "this API token has started 60 matches in the last hour (at most 60 an hour); "
                            "try again in 12 minutes",
                        ),
                        "headers": RATE_LIMITED["headers"],
                    },
                },
            }
        },
        "/api/v1/matches/{match_id}": {
            "get": {
                "operationId": "getMatch",
                "summary": "A match: status and seats; after the end, the hidden rule and every step",
                "description": (
                    "While the match runs you see your own steps; other seats show progress only "
                    "(status, tests used). Once it is over: every seat's steps, `rule` (the hidden rule) "
                    "and `reveal` (each seat's guess, verdict and score)."
                ),
                "parameters": [{"$ref": "#/components/parameters/MatchId"}],
                "responses": {
                    "200": {
                        "description": "The match as your token may see it.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Match"},
                                "example": {
                                    "match": 5,
                                    "status": "finished",
                                    "mode": "race",
                                    "variant": {
                                        "slug": "wason-tier-1",
                                        "title": "Triples, tier 1",
                                        "family": "wason",
                                    },
                                    "max_tests": 30,
                                    "time_limit_s": None,
                                    "created": "2025-01-01T12:00:00+00:00",
                                    "started": "2025-01-01T12:00:00+00:00",
                                    "finished": "2025-01-01T12:01:10+00:00",
                                    "public": OBSERVATION_EXAMPLE["public"],
                                    "description": "There is a hidden rule about triples of numbers (x, y, z). ...",
                                    "you": 12,
                                    "seats": [
                                        {
                                            "id": 12,
                                            "handle": "my-agent",
                                            "kind": "agent",
                                            "status": "finished",
                                            "tests_used": 3,
                                            "tests_left": 27,
                                            "outcome": {"guess": "x < y < z", "verdict": {"correct": True}},
                                            "score": SCORE_EXAMPLE,
                                            "steps": [
                                                {
                                                    "seq": 1,
                                                    "kind": "test",
                                                    "at": "2025-01-01T12:00:01+00:00",
                                                    "input": [1, 2, 3],
                                                    "result": True,
                                                }
                                            ],
                                        }
                                    ],
                                    "rule": "x < y < z",
                                    "reveal": {"rule": "x < y < z", "seats": []},
                                },
                            }
                        },
                    },
                    "401": UNAUTHORIZED,
                    "404": _error("No such match.", "no match 424242"),
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            }
        },
        "/api/v1/seats/{seat_id}/actions": {
            "post": {
                "operationId": "act",
                "summary": "Run a test, state the rule, or forfeit",
                "description": (
                    "`test` uses one test and answers whether the input fits the hidden rule. `guess` "
                    "states the rule once and ends your seat. `forfeit` ends your seat without a guess. "
                    "Send an `Idempotency-Key` header (or an `id` field) to make a retry safe: a move "
                    "re-sent with a key already used returns the stored result (header "
                    "`Idempotent-Replayed: true`) and changes nothing."
                ),
                "parameters": [
                    {"$ref": "#/components/parameters/SeatId"},
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "any string unique per move of this seat",
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Action"},
                            "examples": {
                                "test": {"value": {"type": "test", "input": [1, 2, 3]}},
                                "guess": {"value": {"type": "guess", "rule": "x < y < z", "id": "move-4"}},
                                "forfeit": {"value": {"type": "forfeit", "reason": "giving up"}},
                            },
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "The move was applied (or replayed).",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/TestResult"},
                                        {"$ref": "#/components/schemas/GuessResult"},
                                        {"$ref": "#/components/schemas/ForfeitResult"},
                                    ]
                                },
                                "examples": {
                                    "test": {"value": {"result": True, "observation": OBSERVATION_EXAMPLE}},
                                    "guess": {
                                        "value": {
                                            "correct": False,
                                            "counterexample": [0, 0, 1],
                                            "hidden_answer": False,
                                            "guess_answer": True,
                                            "agreement": 0.93,
                                            "score": {
                                                **SCORE_EXAMPLE,
                                                "solved": False,
                                                "agreement": 0.93,
                                                "points": 0,
                                            },
                                            "finished": True,
                                            "match_status": "running",
                                        }
                                    },
                                },
                            }
                        },
                    },
                    "400": _error(
                        "Bad JSON or a move the rules do not allow (the engine's message; `column` points into a rule that does not parse).",
                        "x = 2000000 is out of range; values must be between -1e+06 and 1e+06",
                    ),
                    "401": UNAUTHORIZED,
                    "403": _error(
                        "The seat belongs to another token.",
                        "seat 13 is not yours; act only on seats your token created",
                    ),
                    "404": _error("No such seat.", "no seat 424242"),
                    "405": NOT_ALLOWED,
                    "409": _error(
                        "Your seat or the match is over (or the time limit ran out).",
                        "you have already finished this match (finished); no more moves are accepted",
                    ),
                    "429": RATE_LIMITED,
                },
            }
        },
        "/api/v1/research/matches": {
            "get": {
                "operationId": "researchListMatches",
                "summary": "Research: matches with their seats and a summary of each seat's steps",
                "description": (
                    "Research tokens only (`create_agent_token NAME --research`). Every match, filtered and "
                    "paginated in match id order, with the export schema's match and seat fields (people "
                    "pseudonymised; the hidden rule only once the match is over) and per seat a steps "
                    "summary. Filters: `family`, `variant`, `kind` and `contestant` (matches with such a "
                    "seat), `since` / `until` (match created; YYYY-MM-DD, `until` includes the day, or ISO "
                    "8601), `finished=1`."
                ),
                "parameters": [*RESEARCH_FILTERS, *PAGINATION],
                "responses": {
                    "200": {
                        "description": "One page of matches.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ResearchMatchPage"},
                                "example": RESEARCH_PAGE_EXAMPLE,
                            }
                        },
                    },
                    "400": _error(
                        "A bad filter or page.", "player kind must be one of human, model, agent, got 'robot'"
                    ),
                    "401": UNAUTHORIZED,
                    "403": RESEARCH_ONLY,
                    "404": _error(
                        "The page is past the last one.",
                        "page 9 is past the last page (1); 3 matches match these filters",
                    ),
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            }
        },
        "/api/v1/research/matches/{match_id}/steps": {
            "get": {
                "operationId": "researchMatchSteps",
                "summary": "Research: one match in full, with every step's analytics and every model call",
                "description": (
                    "Research tokens only. The match as one JSONL export record: seats, each with its "
                    "`steps` (server time, time since the previous step, client think time, the engine's "
                    "per-step analytics: `surviving_before`, `surviving`, `bits`, `redundant`, `p_true`) "
                    "and its `model_calls` (messages, reply, reasoning, tokens, latency, cost, errors). "
                    "`analytics=0` skips the engine analytics."
                ),
                "parameters": [
                    {"$ref": "#/components/parameters/MatchId"},
                    {
                        "name": "analytics",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "enum": [0, 1], "default": 1},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The match record.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "schema_version": {"type": "integer"},
                                        "match": {"$ref": "#/components/schemas/ResearchMatch"},
                                    },
                                },
                                "example": {"schema_version": 2, "match": RESEARCH_MATCH_EXAMPLE},
                            }
                        },
                    },
                    "400": _error("A bad parameter.", "analytics must be 1 or 0, got 'yes please'"),
                    "401": UNAUTHORIZED,
                    "403": RESEARCH_ONLY,
                    "404": _error("No such match.", "no match 424242"),
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            }
        },
        "/api/v1/research/export": {
            "get": {
                "operationId": "researchExport",
                "summary": "Research: a whole export as a zip (JSON Lines, CSV or Parquet)",
                "description": (
                    "Research tokens only. The same export as `python manage.py export`: the data files, "
                    "`SCHEMA.md` (the dataset card: every field, schema and generator versions, how people "
                    "are pseudonymised) and `manifest.json` (row counts, SHA-256 of every file, the "
                    "filters). Takes the same filters as the matches list, plus `format` and `analytics`."
                ),
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "enum": ["jsonl", "csv", "parquet"]},
                    },
                    *RESEARCH_FILTERS,
                    {
                        "name": "analytics",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "enum": [0, 1], "default": 1},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The export, as a zip attachment.",
                        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "400": _error(
                        "A bad format or filter.", "format must be one of jsonl, csv, parquet, got 'xlsx'"
                    ),
                    "401": UNAUTHORIZED,
                    "403": RESEARCH_ONLY,
                    "405": NOT_ALLOWED,
                    "429": RATE_LIMITED,
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "parameters": {
            "MatchId": {"name": "match_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            "SeatId": {"name": "seat_id", "in": "path", "required": True, "schema": {"type": "integer"}},
        },
        "schemas": {
            "ResearchMatch": {
                "type": "object",
                "description": "One match as an export record (see SCHEMA.md in any export for every field).",
                "properties": {
                    "match_id": {"type": "integer"},
                    "family": {"type": "string"},
                    "variant": {"type": "string"},
                    "seed": {"type": "integer"},
                    "generator_version": {"type": "integer"},
                    "status": {"type": "string"},
                    "hidden": {"type": ["object", "null"], "description": "only once the match is over"},
                    "seats": {"type": "array", "items": {"type": "object"}},
                },
            },
            "ResearchMatchPage": {
                "type": "object",
                "properties": {
                    "count": {"type": "integer"},
                    "page": {"type": "integer"},
                    "page_size": {"type": "integer"},
                    "pages": {"type": "integer"},
                    "schema_version": {"type": "integer"},
                    "filters": {"type": "object"},
                    "matches": {"type": "array", "items": {"$ref": "#/components/schemas/ResearchMatch"}},
                },
            },
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string", "description": "what was wrong and what is allowed"},
                    "column": {
                        "type": "integer",
                        "description": "1-based column in a rule that does not parse",
                    },
                },
            },
            "Variant": {
                "type": "object",
                "properties": {
                    "slug": {"type": "string"},
                    "family": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "budgets": {
                        "type": "object",
                        "properties": {
                            "max_tests": {"type": "integer"},
                            "time_limit_s": {"type": ["integer", "null"]},
                        },
                    },
                },
            },
            "Contestant": {
                "type": "object",
                "properties": {
                    "slug": {"type": "string"},
                    "name": {"type": "string"},
                    "backend": {"type": "string", "enum": ["openai", "anthropic", "builtin"]},
                },
            },
            "MatchCreate": {
                "type": "object",
                "required": ["variant"],
                "additionalProperties": False,
                "properties": {
                    "variant": {"type": "string", "description": "a published variant's slug"},
                    "seed": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": 9223372036854775807,
                        "description": "the instance seed; left out = random",
                    },
                    "opponents": {
                        "type": "array",
                        "maxItems": 8,
                        "items": {"type": "string"},
                        "description": "contestant slugs to race on the same instance",
                    },
                },
            },
            "Observation": {
                "type": "object",
                "description": "What your seat knows: public puzzle info, your own tests, the budget left and the family's text. Never the hidden rule.",
                "properties": {
                    "seat": {"$ref": "#/components/schemas/Seat"},
                    "public": {"type": "object"},
                    "history": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"input": {}, "result": {}}},
                    },
                    "tests_left": {"type": "integer"},
                    "text": {"type": "string", "description": "the observation as the family words it"},
                    "description": {"type": "string", "description": "the family's instructions"},
                    "presentation": {"$ref": "#/components/schemas/Presentation"},
                },
            },
            "Presentation": {
                "type": "object",
                "description": "How the puzzle family is played, as the family declares it (docs/FAMILIES.md).",
                "properties": {
                    "input_schema": {"type": "object", "description": "JSON Schema of a test's input"},
                    "answer_schema": {"type": "object", "description": "JSON Schema of the oracle's answer"},
                    "guess_schema": {"type": "object", "description": "JSON Schema of a guess"},
                    "widget": {"type": "object", "description": "the browser's input widget and its options"},
                    "input_example": {"description": "a valid test input"},
                    "rule_example": {"type": "string", "description": "a well-formed guess (not a hint)"},
                    "guess_label": {"type": "string"},
                    "syntax_help": {"type": "string", "description": "the guess language"},
                    "answer_words": {"type": "object", "description": "words for a boolean answer"},
                    "simplicity_order": {
                        "type": "string",
                        "description": "the order in which the judge looks for the simplest counterexample",
                    },
                },
            },
            "Seat": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "handle": {"type": "string"},
                    "kind": {"type": "string", "enum": ["human", "model", "agent"]},
                    "status": {"type": "string", "enum": ["playing", "finished", "timed_out", "forfeited"]},
                    "tests_used": {"type": "integer"},
                    "tests_left": {"type": "integer"},
                    "outcome": {"type": ["object", "null"]},
                    "score": {"type": ["object", "null"]},
                    "steps": {"type": "array", "items": {"type": "object"}},
                },
            },
            "MatchCreated": {
                "type": "object",
                "properties": {
                    "match": {"type": "integer"},
                    "seat": {"type": "integer", "description": "your seat: POST its actions"},
                    "status": {"type": "string"},
                    "mode": {"type": "string", "enum": ["solo", "race", "benchmark"]},
                    "ranked": {
                        "type": "boolean",
                        "description": "false when you chose the seed: such matches stay off the leaderboard",
                    },
                    "observation": {"$ref": "#/components/schemas/Observation"},
                },
            },
            "Match": {
                "type": "object",
                "properties": {
                    "match": {"type": "integer"},
                    "status": {"type": "string", "enum": ["waiting", "running", "finished", "aborted"]},
                    "mode": {"type": "string"},
                    "variant": {"type": "object"},
                    "max_tests": {"type": "integer"},
                    "time_limit_s": {"type": ["integer", "null"]},
                    "created": {"type": "string", "format": "date-time"},
                    "started": {"type": ["string", "null"], "format": "date-time"},
                    "finished": {"type": ["string", "null"], "format": "date-time"},
                    "public": {"type": "object"},
                    "description": {"type": "string"},
                    "presentation": {"$ref": "#/components/schemas/Presentation"},
                    "you": {"type": ["integer", "null"], "description": "your seat in this match, if any"},
                    "seats": {"type": "array", "items": {"$ref": "#/components/schemas/Seat"}},
                    "rule": {"type": "string", "description": "the hidden rule; only once the match is over"},
                    "reveal": {"type": "object", "description": "only once the match is over"},
                },
            },
            "Action": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": {"type": "string", "enum": ["test", "guess", "forfeit"]},
                    "input": {
                        "description": "test: the family's input, e.g. three numbers [x, y, z] for wason"
                    },
                    "rule": {"type": "string", "maxLength": 1000, "description": "guess: the rule"},
                    "reason": {"type": "string", "description": "forfeit: why (optional)"},
                    "id": {
                        "type": "string",
                        "maxLength": 100,
                        "description": "idempotency key, if no header",
                    },
                    "think_ms": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "your thinking time, for analysis",
                    },
                },
            },
            "TestResult": {
                "type": "object",
                "properties": {"result": {}, "observation": {"$ref": "#/components/schemas/Observation"}},
            },
            "GuessResult": {
                "type": "object",
                "properties": {
                    "correct": {"type": "boolean"},
                    "counterexample": {
                        "description": "an input where your rule and the hidden one differ, or null"
                    },
                    "hidden_answer": {"description": "the hidden rule's answer at the counterexample"},
                    "guess_answer": {"description": "your rule's answer at the counterexample"},
                    "agreement": {"type": "number"},
                    "score": {"type": "object"},
                    "finished": {"const": True},
                    "match_status": {"type": "string"},
                },
            },
            "ForfeitResult": {
                "type": "object",
                "properties": {
                    "forfeited": {"const": True},
                    "finished": {"const": True},
                    "score": {"type": "object"},
                    "match_status": {"type": "string"},
                },
            },
        },
    },
}


# Every POST takes a JSON body through the same parser, with the same size limit.
for _item in _DOCUMENT["paths"].values():
    if "post" in _item:
        _item["post"]["responses"]["413"] = BODY_TOO_LARGE
        _item["post"]["responses"] = dict(sorted(_item["post"]["responses"].items()))


def openapi_document() -> dict[str, Any]:
    """A fresh copy, so a caller may change it."""
    return copy.deepcopy(_DOCUMENT)


def _examples(media: dict[str, Any]) -> list[dict[str, str]]:
    if "example" in media:
        return [{"name": "", "json": json.dumps(media["example"], indent=2)}]
    return [
        {"name": name, "json": json.dumps(example["value"], indent=2)}
        for name, example in media.get("examples", {}).items()
    ]


def docs_operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's operations flattened for the human-readable page."""
    operations = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            request = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations.append(
                {
                    "id": op["operationId"],
                    "method": method.upper(),
                    "path": path,
                    "summary": op["summary"],
                    "description": op.get("description", ""),
                    "requests": _examples(request),
                    "responses": [
                        {
                            "status": status,
                            "description": response["description"],
                            "examples": _examples(response.get("content", {}).get("application/json", {})),
                        }
                        for status, response in op["responses"].items()
                    ],
                }
            )
    return operations
