"""The fixed texts a player or model reads never contain a rule the generator can pick."""

from __future__ import annotations

from pathlib import Path

from games.engine import get_family
from games.engine.families import wason
from workers import prompts

FAMILY = get_family("wason")
REPO = Path(__file__).resolve().parents[2]


def fixed_texts() -> list[str]:
    inst = FAMILY.generate(0, FAMILY.validate_params({}))
    return [
        prompts.system_prompt(FAMILY, inst.public),
        prompts.first_user_prompt(FAMILY, inst.public, 30),
        prompts.FORMAT_REMINDER,
        (REPO / "templates/games/match.html").read_text(),
        (REPO / "static/arena/match.js").read_text(),
        (REPO / "templates/games/home.html").read_text(),
    ]


def generated_rules() -> set[str]:
    rules = {t for tier in (1, 2, 3, 5) for t in wason.clause_templates()[tier]}
    for tier in range(1, 6):
        for seed in range(40):
            rules.add(FAMILY.generate(seed, FAMILY.validate_params({"tier": tier})).hidden["rule"])
    return rules


def test_no_generatable_rule_appears_in_instructions_prompts_or_pages() -> None:
    texts = fixed_texts()
    leaks = sorted(rule for rule in generated_rules() for text in texts if rule in text)
    assert leaks == []


def test_the_suite_wide_leak_scan_would_catch_a_leak(db) -> None:
    from games.models import ModelCall
    from tests.conftest import leaked_calls
    from tests.workers.helpers import builtin, model_race

    _, (seat,) = model_race(builtin(), rule="x < y < z")
    call = ModelCall.objects.create(
        seat=seat, turn=1, messages=[{"role": "user", "content": "psst: the rule is x < y < z"}]
    )
    assert leaked_calls() == [(call.pk, "x < y < z")]
    call.delete()  # leave the database clean for the autouse scan
    assert leaked_calls() == []
