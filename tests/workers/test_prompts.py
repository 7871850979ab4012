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


# -- prompt versions -----------------------------------------------------------------------------


def _v1_conversations() -> dict[str, list[dict[str, str]]]:
    """Every family's version-1 chat (seed 7, default params): three tests, a forfeited turn and a
    format re-prompt, the way tests/workers/data/prompts_v1.json was written before version 2."""
    import json
    import random

    from games.engine.core import all_families

    # the params the golden file was written with, where a family's defaults changed since
    # (subregular's test budget went from 30 to 12: another instance, not another prompt text)
    pinned = {"subregular": {"max_tests": 30}}
    out = {}
    for family in all_families():
        inst = family.generate(7, family.validate_params(pinned.get(family.id, {})))
        rng = random.Random(1)
        turns = []
        for i in range(3):
            query = family.random_input(rng, inst.public)
            result = family.answer(inst, query)
            turns.append(
                prompts.Turn(
                    reply=json.dumps({"action": "test", "input": query}),
                    feedback=prompts.feedback_text({"type": "test", "input": query}, result, 27 - i, family),
                )
            )
        forfeit = prompts.feedback_text({"type": "forfeit"}, "no valid action: no action found", 23)
        turns.append(prompts.Turn(reply="I think so.", feedback=forfeit))
        quiz = family.quiz_items(inst) if family.quiz_items is not None else []
        messages = prompts.build_messages(family, inst.public, turns, 30, 1, quiz_items=quiz)
        out[family.id] = prompts.reprompt_messages(messages, "blah", "no action found", family_id=family.id)
    return out


def test_version_1_text_is_unchanged_for_every_family() -> None:
    import json
    from pathlib import Path

    golden = json.loads((Path(__file__).parent / "data" / "prompts_v1.json").read_text())
    now = _v1_conversations()
    assert sorted(now) == sorted(golden)
    for family_id, messages in now.items():
        assert messages == golden[family_id], family_id


def _compact_chat(family_id: str, turns: int, forfeits: int = 0):
    import random

    family = get_family(family_id)
    inst = family.generate(7, family.validate_params({}))
    rng = random.Random(1)
    history, chat = [], []
    for i in range(turns):
        query = family.random_input(rng, inst.public)
        result = family.answer(inst, query)
        history.append({"input": query, "result": result})
        chat.append(
            prompts.Turn(
                reply=f'{{"action": "test", "input": {query!r}}}',
                feedback=prompts.feedback_text({"type": "test", "input": query}, result, 29 - i, family, 2),
            )
        )
    for _ in range(forfeits):
        reason = "no valid action after a re-prompt: " + "the JSON object has no action " * 5
        chat.append(
            prompts.Turn(
                reply="hmm", feedback=prompts.feedback_text({"type": "forfeit"}, reason, 9, version=2)
            )
        )
    left = 30 - turns - forfeits
    return (
        family,
        inst,
        history,
        prompts.build_messages(family, inst.public, chat, 30, 2, history=history, tests_left=left),
    )


def test_compact_version_has_no_example_rule_and_no_invitation_to_ramble() -> None:
    from games.engine.core import all_families

    for family in all_families():
        inst = family.generate(7, family.validate_params({}))
        system = prompts.system_prompt(family, inst.public, 2)
        example = family.shown.rule_example.strip()
        assert not example or example not in system, family.id
        assert "for example:" not in system.lower() and "think as much as you like" not in system
        assert "Reply with one JSON object and nothing else" in system
        assert len(system) < len(prompts.system_prompt(family, inst.public, 1)), family.id
        reminder = prompts.reprompt_messages([], "?", "no action found", family_id=family.id, version=2)[-1]
        assert not example or example not in reminder["content"], family.id
        if not family.shown.has_guess:  # nothing to state: no guess offered
            assert '"guess"' not in system and '"guess"' not in reminder["content"], family.id
        elif family.shown.guess_schema.get("type", "string") == "string":  # a rule: a placeholder
            assert "<your rule>" in reminder["content"] and "<your rule>" in system, family.id
        else:  # an answer (a grid): a placeholder too, never the family's example answer
            assert "<your answer, as JSON>" in reminder["content"] and "<your answer" in system, family.id


def test_compact_version_keeps_forfeit_feedback_short() -> None:
    _, _, _, messages = _compact_chat("wason", 1, forfeits=1)
    forfeit = messages[-1]["content"]
    assert (
        forfeit.startswith("Turn forfeited (no valid action after a re-prompt") and "Tests left: 9" in forfeit
    )
    # the reason is cut (v1 repeats all of it: 200 characters here)
    assert (
        len(forfeit) <= prompts.COMPACT_REASON_CHARS + len(" Tests left: 9. Reply with one JSON object.") + 20
    )


def test_compact_version_summarises_a_long_history_as_the_state_text() -> None:
    _, _, _, short = _compact_chat("wason", prompts.COMPACT_RAW_TURNS)
    assert [m["role"] for m in short][2:4] == ["assistant", "user"]  # raw while the chat is short
    family, inst, history, long = _compact_chat("wason", prompts.COMPACT_RAW_TURNS + 3, forfeits=2)
    assert [m["role"] for m in long] == ["system", "user"]
    state = long[1]["content"]
    assert state.startswith(family.render_observation(inst.public, history, 30 - len(history) - 2))
    assert "Turns forfeited so far: 2." in state and state.endswith("Your next move?")
    assert inst.hidden["rule"] not in state


def test_blackbox_compact_prompt_shows_no_test_a_model_can_copy() -> None:
    """The local model sent the placeholder ``[3, 1, 2]`` as its test, turn after turn: the answer
    line names the list's items instead, so a copied placeholder is an unreadable move."""
    import json

    from games.engine.core import QueryError, get_family

    family = get_family("blackbox")
    inst = family.generate(3, family.validate_params({}))
    system = prompts.system_prompt(family, inst.public, 2)
    reminder = prompts.reprompt_messages([], "?", "no action found", family_id="blackbox", version=2)[-1]
    placeholder = family.shown.test_placeholder
    assert f'"input": {placeholder}' in system and f'"input": {placeholder}' in reminder["content"]
    try:
        family.parse_query(inst.public, json.loads(placeholder))
    except (ValueError, QueryError):
        pass
    else:
        raise AssertionError(f"the placeholder {placeholder} is a valid test")
