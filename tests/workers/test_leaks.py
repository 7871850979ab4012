"""The fixed texts a player or model reads never contain a rule the generator can pick."""

from __future__ import annotations

from pathlib import Path

import pytest

from games.engine import get_family
from games.engine.families import eleusis, wason
from workers import prompts

REPO = Path(__file__).resolve().parents[2]
TIERS = {"wason": range(1, 6), "eleusis": range(1, 5)}


def fixed_texts(family_id: str) -> list[str]:
    family = get_family(family_id)
    inst = family.generate(0, family.validate_params({}))
    return [
        prompts.system_prompt(family, inst.public),
        prompts.first_user_prompt(family, inst.public, 30),
        prompts.reprompt_messages([], "", "no JSON object found", family_id=family_id)[-1]["content"],
        (REPO / "templates/games/match.html").read_text(),
        (REPO / "static/arena/match.js").read_text(),
        (REPO / "templates/games/home.html").read_text(),
    ]


def generated_rules(family_id: str) -> set[str]:
    family = get_family(family_id)
    module = {"wason": wason, "eleusis": eleusis}[family_id]
    rules = {t for templates in module.clause_templates().values() for t in templates}
    rules |= {module.parse(t).text for t in rules}
    for tier in TIERS[family_id]:
        for seed in range(40):
            rules.add(family.generate(seed, family.validate_params({"tier": tier})).hidden["rule"])
    return rules


@pytest.mark.parametrize("family_id", sorted(TIERS))
def test_no_generatable_rule_appears_in_instructions_prompts_or_pages(family_id: str) -> None:
    texts = fixed_texts(family_id)
    leaks = sorted(rule for rule in generated_rules(family_id) for text in texts if rule in text)
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
