"""``manage.py rescore``: replies stored under an older parser, read again by the current one.

The older parser is the real version-1 behaviour, reproduced in the play: version 1 read an object
holding only "hypothesis" as a guess (``_only_hypothesis`` did not exist), and stored its version
number with each call. The match is played through the real pipeline against the fake model server."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from games.models import ModelCall, ModelCallReparse, Seat
from tests.workers.fake_model import Reply
from tests.workers.helpers import contestant, model_race
from tests.workers.test_pipeline import drive
from workers import parsing, rescore

pytestmark = pytest.mark.django_db

TEST = '{"action": "test", "input": [1, 2, 3]}'
# A test, then the model's current idea on its own: version 1 read the last object as a guess.
AMBIGUOUS = 'Next: {"action": "test", "input": [3, 4, 5]}\nMy current idea: {"hypothesis": "x < y"}'
GUESS_RIGHT = '{"action": "guess", "rule": "z < x + y"}'


def play_under_parser_v1(fake, monkeypatch, *, slug: str, replies: list[str]) -> Seat:
    monkeypatch.setattr(parsing, "_only_hypothesis", lambda obj: False)
    monkeypatch.setattr("workers.pipeline.PARSER_VERSION", 1)
    fake.script(*(Reply(content=r) for r in replies))
    _, (seat,) = model_race(contestant(fake, slug=slug))
    drive(seat)
    monkeypatch.undo()
    return seat


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("rescore", *args, stdout=out)
    return out.getvalue()


def test_the_report_names_each_changed_reply_per_contestant_and_writes_nothing(fake, monkeypatch) -> None:
    seat = play_under_parser_v1(fake, monkeypatch, slug="old-reader", replies=[TEST, AMBIGUOUS])
    play_under_parser_v1(fake, monkeypatch, slug="plain-model", replies=[TEST, GUESS_RIGHT])
    # Under version 1 the ambiguous reply ended the game with the guess "x < y".
    assert seat.outcome["guess"] == "x < y" and seat.status == Seat.Status.FINISHED
    assert set(ModelCall.objects.values_list("parser_version", flat=True)) == {1}
    before = list(ModelCall.objects.order_by("id").values_list("parsed_action", "parse_error"))

    report = rescore.rescore(parser_version=1)
    rows = {r.contestant: r.as_dict() for r in report.contestants.values()}
    assert rows["old-reader"] == {
        "contestant": "old-reader",
        "checked": 2,
        "unchanged": 1,
        "changed": 1,
        "action": 1,
        "now_parses": 0,
        "now_fails": 0,
        "hypothesis": 0,
        "in_finished_matches": 1,
    }
    assert rows["plain-model"]["checked"] == 2 and rows["plain-model"]["changed"] == 0
    (change,) = report.changes
    assert change.old_action == {"type": "guess", "rule": "x < y"}
    assert change.new_action == {"type": "test", "input": [3, 4, 5]} and change.finished_match

    text = run("--parser-version", "1")
    assert "old-reader" in text and "plain-model" in text
    assert 'action: {"type": "guess", "rule": "x < y"} -> {"type": "test", "input": [3, 4, 5]}' in text
    assert "Nothing written" in text
    assert not ModelCallReparse.objects.exists()
    assert list(ModelCall.objects.order_by("id").values_list("parsed_action", "parse_error")) == before


def test_write_records_both_readings_and_never_the_outcome(fake, monkeypatch) -> None:
    seat = play_under_parser_v1(fake, monkeypatch, slug="old-reader", replies=[TEST, AMBIGUOUS])
    outcome = Seat.objects.get(pk=seat.pk).outcome
    steps = list(seat.steps.order_by("seq").values_list("kind", "action"))
    assert "Recorded 1 new re-reading" in run("--parser-version", "1", "--write")
    assert "Recorded 0 new re-reading" in run("--parser-version", "1", "--write")  # safe to repeat
    (kept,) = ModelCallReparse.objects.all()
    assert (kept.old_parser_version, kept.new_parser_version) == (1, parsing.PARSER_VERSION)
    assert kept.old_parsed_action == {"type": "guess", "rule": "x < y"}
    assert kept.new_parsed_action == {"type": "test", "input": [3, 4, 5]}
    assert kept.change == "action" and kept.in_finished_match
    seat.refresh_from_db()
    assert seat.outcome == outcome and list(seat.steps.order_by("seq").values_list("kind", "action")) == steps
    assert kept.call.parsed_action == {"type": "guess", "rule": "x < y"}  # the played reading stays


def test_filters_and_the_json_report(fake, monkeypatch) -> None:
    play_under_parser_v1(fake, monkeypatch, slug="old-reader", replies=[TEST, AMBIGUOUS])
    assert "no stored replies match" in run("--parser-version", "1", "--contestant", "someone-else")
    assert "no stored replies match" in run("--parser-version", "2")  # nothing stored by version 2
    data = json.loads(run("--parser-version", "1", "--json", "--family", "wason"))
    assert data["current_version"] == parsing.PARSER_VERSION and len(data["changes"]) == 1


@pytest.mark.parametrize("version", ["0", str(parsing.PARSER_VERSION + 1)])
def test_an_unknown_parser_version_is_refused_clearly(version) -> None:
    with pytest.raises(CommandError, match=f"from 1 to {parsing.PARSER_VERSION}"):
        run("--parser-version", version)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (None, None, None),
        (None, {"type": "test", "input": [1]}, "now_parses"),
        ({"type": "test", "input": [1]}, None, "now_fails"),
        ({"type": "test", "input": [1]}, {"type": "test", "input": [2]}, "action"),
        ({"type": "test", "input": [1]}, {"type": "test", "input": [1], "hypothesis": "x < y"}, "hypothesis"),
        ({"type": "guess", "rule": "x < y"}, {"type": "guess", "rule": "x < y"}, None),
    ],
)
def test_what_counts_as_a_change(old, new, expected) -> None:
    assert rescore.classify(old_action=old, new_action=new) == expected
