"""Model clients against a real loopback HTTP server, through the real SDKs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.workers.fake_model import FakeModelServer, Reply
from workers.clients import ClientConfig, ModelCallError, client_for


@pytest.fixture(autouse=True)
def a_key_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    # The configs name FAKE_KEY; a named variable that is not set fails before any request.
    monkeypatch.setenv("FAKE_KEY", "sk-test-default")


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    server = FakeModelServer().start()
    yield server
    server.stop()


def openai_config(fake: FakeModelServer, **kw) -> ClientConfig:
    return ClientConfig(
        backend="openai",
        model="fake-1",
        base_url=fake.base_url,
        api_key_env="FAKE_KEY",
        http_timeout_s=kw.pop("timeout", 5.0),
        **kw,
    )


MESSAGES = [{"role": "system", "content": "rules"}, {"role": "user", "content": "go"}]


def test_openai_reply_with_reasoning_and_usage(
    fake: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_KEY", "sk-test-123")
    fake.script(
        Reply(
            content='{"action": "test", "input": [1, 2, 3]}',
            reasoning="try increasing",
            tokens_in=50,
            tokens_out=9,
        )
    )
    done = client_for("openai")(openai_config(fake, sampling={"temperature": 0.2, "bogus": 1}), MESSAGES)
    assert done.text == '{"action": "test", "input": [1, 2, 3]}'
    assert done.reasoning == "try increasing"
    assert (done.tokens_in, done.tokens_out) == (50, 9)
    path, body = fake.requests[0]
    assert path == "/v1/chat/completions"
    assert body["messages"] == MESSAGES and body["model"] == "fake-1" and body["temperature"] == 0.2
    assert "bogus" not in body


@pytest.mark.parametrize(
    ("reply", "error_class", "transient", "retry_after"),
    [
        (Reply(status=429, content="slow down", headers={"Retry-After": "3"}), "rate_limit", True, 3.0),
        (Reply(status=500, content="boom"), "server_error", True, None),
        (Reply(status=503, content="overloaded"), "server_error", True, None),
        (Reply(status=401, content="bad key"), "auth", False, None),
        (Reply(status=403, content="forbidden"), "auth", False, None),
        (Reply(status=404, content="The model `nope` does not exist"), "not_found", False, None),
        (
            Reply(status=400, content="This model's maximum context length is 8192 tokens"),
            "context_length",
            False,
            None,
        ),
        (
            Reply(status=200, raw_body='{"id": "x", "choices": [{"message": {"content": "hi'),
            "bad_response",
            True,
            None,
        ),
    ],
)
def test_openai_errors_are_classified(fake, reply, error_class, transient, retry_after) -> None:
    fake.script(reply)
    with pytest.raises(ModelCallError) as info:
        client_for("openai")(openai_config(fake), MESSAGES)
    assert info.value.error_class == error_class
    assert info.value.transient is transient
    assert info.value.retry_after == retry_after
    assert len(fake.requests) == 1  # the SDK's own retries are off: retries are ours and logged


def test_openai_timeout(fake: FakeModelServer) -> None:
    fake.script(Reply(content="late", delay=1.5))
    with pytest.raises(ModelCallError) as info:
        client_for("openai")(openai_config(fake, timeout=0.3), MESSAGES)
    assert info.value.error_class == "timeout" and info.value.transient


def test_connection_refused_is_transient() -> None:
    config = ClientConfig(backend="openai", model="m", base_url="http://127.0.0.1:9/v1", http_timeout_s=2)
    with pytest.raises(ModelCallError) as info:
        client_for("openai")(config, MESSAGES)
    assert info.value.error_class == "connection" and info.value.transient


def test_anthropic_reply_with_thinking(fake: FakeModelServer) -> None:
    fake.script(
        Reply(
            content='{"action": "guess", "rule": "x < y"}', reasoning="ordering", tokens_in=40, tokens_out=5
        )
    )
    config = ClientConfig(backend="anthropic", model="claude-fake", base_url=fake.anthropic_base_url)
    done = client_for("anthropic")(config, MESSAGES)
    assert done.text == '{"action": "guess", "rule": "x < y"}' and done.reasoning == "ordering"
    path, body = fake.requests[0]
    assert path == "/v1/messages" and body["system"] == "rules"
    assert body["messages"] == [{"role": "user", "content": "go"}]


def test_anthropic_rate_limit(fake: FakeModelServer) -> None:
    fake.script(Reply(status=429, content="rate", headers={"retry-after": "2"}))
    config = ClientConfig(backend="anthropic", model="claude-fake", base_url=fake.anthropic_base_url)
    with pytest.raises(ModelCallError) as info:
        client_for("anthropic")(config, MESSAGES)
    assert info.value.error_class == "rate_limit" and info.value.retry_after == 2.0


def test_builtin_solver_answers_like_a_model() -> None:
    from games.engine import get_family

    family = get_family("wason")
    inst = family.generate(1, family.validate_params({"tier": 1}))
    obs = {"family": "wason", "public": inst.public, "history": [], "tests_left": 30, "seed": 1}
    done = client_for("builtin")(ClientConfig(backend="builtin", model="infogain"), MESSAGES, observation=obs)
    assert done.text.startswith('{"action": "test"')
    assert "hypotheses" in done.reasoning
    with pytest.raises(ModelCallError, match="unknown built-in solver"):
        client_for("builtin")(ClientConfig(backend="builtin", model="oracle"), MESSAGES, observation=obs)


def test_unknown_backend() -> None:
    with pytest.raises(ModelCallError, match="unknown backend"):
        client_for("carrier-pigeon")


def test_a_named_key_variable_that_is_not_set_fails_before_any_request(
    fake: FakeModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAKE_KEY")
    with pytest.raises(ModelCallError) as failed:
        client_for("openai")(openai_config(fake), MESSAGES)
    assert failed.value.error_class == "config" and not failed.value.transient
    assert "FAKE_KEY" in failed.value.message and fake.requests == []
