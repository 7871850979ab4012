"""ARC task files uploaded from the admin's variant form become a variant's task set; a malformed
file is refused next to the upload field with a message naming the file and the fault."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from games.engine import get_family
from games.models import PuzzleVariant
from tests.games.test_admin import ADD, field_errors

pytestmark = pytest.mark.django_db

TASK = {
    "train": [{"input": [[1, 0]], "output": [[0, 1]]}, {"input": [[2, 0]], "output": [[0, 2]]}],
    "test": [{"input": [[3, 0]], "output": [[0, 3]]}],
}
FIELD = "param__arc__tasks"


@pytest.fixture
def staff(client) -> User:
    user = User.objects.create_superuser("boss", "boss@example.org", "pw-boss-123")
    client.force_login(user)
    return user


def arc_form(**extra) -> dict:
    data = {
        "slug": "my-arc",
        "family": "arc",
        "title": "My ARC tasks",
        "description": "",
        "spectator_delay_s": "",
        "rule_set": "",
        "extra_params": "{}",
        "param__arc__examples": "1",
        "param__arc__attempts": "2",
    }
    data.update(extra)
    return data


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_a_zip_of_task_files_becomes_the_variant_task_set(client, staff):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mirror.json", json.dumps(TASK))
    response = client.post(ADD, arc_form(**{FIELD: [upload("tasks.zip", buffer.getvalue())]}))
    assert response.status_code == 302, response.context["adminform"].form.errors
    variant = PuzzleVariant.objects.get(slug="my-arc")
    assert set(json.loads(variant.params["tasks"])) == {"mirror"}
    family = get_family("arc")
    inst = family.generate(1, family.validate_params(variant.params))
    assert inst.public["test_input"] == [[3, 0]] and family.judge(inst, [[0, 3]]).correct


def test_a_malformed_task_file_is_refused_naming_the_file_and_the_fault(client, staff):
    bad = {**TASK, "train": [TASK["train"][0], {"input": [[1, 2], [3]], "output": [[1]]}]}
    response = client.post(
        ADD,
        arc_form(
            **{
                FIELD: [
                    upload("good.json", json.dumps(TASK).encode()),
                    upload("ragged.json", json.dumps(bad).encode()),
                ]
            }
        ),
    )
    assert response.status_code == 200
    errors = field_errors(response, FIELD)
    assert any("ragged.json: train pair 2: its input: every row must have 2 cells" in e for e in errors), (
        errors
    )
    assert not PuzzleVariant.objects.filter(slug="my-arc").exists()
    response = client.post(ADD, arc_form(**{FIELD: [upload("notes.txt", b"hello")]}))
    assert any("notes.txt: expected an ARC task .json file" in e for e in field_errors(response, FIELD))
