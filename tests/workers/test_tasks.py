from workers.tasks import ping


def test_ping_returns_its_payload():
    assert ping.apply(args=["hello"]).get() == "hello"
