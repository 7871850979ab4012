"""The ``tuples`` family from the admin's schema-driven variant form: the tuple is one text field
(the form's params are scalars), refused next to the field with the engine's message."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from games.engine import get_family
from games.models import PuzzleVariant
from tests.games.test_admin import ADD, field_errors

pytestmark = pytest.mark.django_db

VARIABLES = "a: decimal 0..2 places 1, b: decimal -1..1 places 1, c: int 0..9, d: decimal 0..1 places 2"


@pytest.fixture
def staff(client) -> User:
    user = User.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    client.force_login(user)
    return user


def tuple_form(**params) -> dict:
    data = {
        "slug": "gauges",
        "family": "tuples",
        "title": "Gauges",
        "description": "",
        "spectator_delay_s": "",
        "rule_set": "",
        "extra_params": "{}",
        "param__tuples__variables": VARIABLES,
        "param__tuples__rule": "a + b > c * d",
        "param__tuples__instructions": "Four gauges.",
        "param__tuples__max_tests": "25",
        "param__tuples__examples": "1",
    }
    data.update({f"param__tuples__{k}": v for k, v in params.items()})
    return data


def test_an_admin_makes_a_four_variable_decimal_puzzle_type_from_the_form(client, staff):
    response = client.post(ADD, tuple_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    variant = PuzzleVariant.objects.get(slug="gauges")
    assert variant.params["variables"] == VARIABLES and variant.params["rule"] == "a + b > c * d"
    family = get_family("tuples")
    inst = family.generate(3, family.validate_params(variant.params))
    assert [f["name"] for f in family.shown_for(inst.public).widget["fields"]] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("variables", "a: decimal 0..2 places 9", "'a' may have 1 to 3 decimal places"),
        ("variables", "a: float 0..2", "cannot read 'a: float 0..2'"),
        ("rule", "a + e > 1", "parameter 'rule' is not a valid rule: name 'e' is not allowed"),
        ("rule", "a >= 0", "parameter 'rule' is degenerate: always true"),
        # a blank rule box falls back to the schema's default (``x < y``), which names no variable here
        ("rule", "", "parameter 'rule' is not a valid rule: name 'x' is not allowed"),
    ],
)
def test_bad_tuple_params_are_refused_next_to_their_field(client, staff, field, value, message):
    response = client.post(ADD, tuple_form(**{field: value}))
    errors = field_errors(response, f"param__tuples__{field}")
    assert errors and message in errors[0], errors
    assert not PuzzleVariant.objects.filter(slug="gauges").exists()
