import pytest

from workers.tasks import ping


def test_ping_returns_its_payload():
    assert ping.apply(args=["hello"]).get() == "hello"


@pytest.mark.django_db
def test_an_eager_task_leaves_its_callers_transaction_alone() -> None:
    from django.db import connection, transaction

    from games.models import PuzzleVariant

    with transaction.atomic():
        PuzzleVariant.objects.create(slug="inside", family="wason", title="Inside")
        assert ping.apply(args=["hello"]).get() == "hello"
        assert connection.in_atomic_block and connection.connection is not None
        assert PuzzleVariant.objects.filter(slug="inside").exists()
