"""Prompts are built from public information only."""

from __future__ import annotations

from games.engine import get_family
from workers import prompts

FAMILY = get_family("wason")


def test_messages_carry_instructions_state_and_history() -> None:
    inst = FAMILY.generate(3, FAMILY.validate_params({"tier": 2}))
    turns = [
        prompts.Turn(
            reply='{"action": "test", "input": [1, 2, 3]}',
            feedback=prompts.feedback_text({"type": "test", "input": [1, 2, 3]}, False, 29),
        )
    ]
    messages = prompts.build_messages(FAMILY, inst.public, turns, 30)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "30 tests" in messages[0]["content"] and '"action": "guess"' in messages[0]["content"]
    assert "Tests left: 30" in messages[1]["content"]
    assert "(1, 2, 3) does not fit the rule (False)" in messages[3]["content"]


def test_no_prompt_contains_the_hidden_rule() -> None:
    for seed in range(30):
        inst = FAMILY.generate(seed, FAMILY.validate_params({"tier": 1 + seed % 5}))
        text = "\n".join(m["content"] for m in prompts.build_messages(FAMILY, inst.public, [], 30))
        assert inst.hidden["rule"] not in text


def test_reprompt_appends_the_bad_reply_and_a_reminder() -> None:
    base = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    out = prompts.reprompt_messages(base, "blah", "no action found")
    assert out[-2] == {"role": "assistant", "content": "blah"}
    assert "no action found" in out[-1]["content"] and '"action": "test"' in out[-1]["content"]


def test_family_words_come_from_the_family_declarations() -> None:
    cards = get_family("eleusis")
    inst = cards.generate(1, cards.validate_params({}))
    system = prompts.system_prompt(cards, inst.public)
    assert cards.shown.answer_format() in system and "to test a pair of cards" in system
    feedback = prompts.feedback_text({"type": "test", "input": [12, 3, 13, 0]}, True, 5, cards)
    assert feedback.startswith("Q♥ then K♣ (12, 3, 13, 0) fits the rule (True).")
    reminder = prompts.reprompt_messages([], "?", "no action found", family_id="eleusis")[-1]["content"]
    assert '"input": [12, 3, 5, 0]' in reminder and cards.shown.rule_example in reminder


def test_no_module_outside_the_engine_names_a_family() -> None:
    """A family is one module: the workers, scripts and game pages read its declarations (the API
    docs page may show a variant slug in its curl examples)."""
    from pathlib import Path

    from games.engine.core import all_families

    repo = Path(__file__).resolve().parents[2]
    files = [
        *repo.glob("workers/*.py"),
        *repo.glob("static/arena/*.js"),
        *repo.glob("templates/games/*.html"),
    ]
    import re

    # the id as a word: "arc" names a family, "search" does not
    ids = [f.id for f in all_families()]
    offenders = [
        f"{p.relative_to(repo)}: {i}"
        for p in files
        for i in ids
        if re.search(rf"(?<![a-z0-9_]){re.escape(i)}(?![a-z0-9_])", p.read_text().lower())
    ]
    assert offenders == []
    assert re.search(r"(?<![a-z0-9_])arc(?![a-z0-9_])", "research search arcade") is None
