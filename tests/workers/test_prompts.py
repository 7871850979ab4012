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
