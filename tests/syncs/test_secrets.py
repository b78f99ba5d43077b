"""``Secret`` and the secret-key rule (no I/O)."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from sequin_orm.credentials import Credential
from sequin_orm.errors import UnprocessableEntityError
from sequin_orm.secrets import (
    MASK,
    Secret,
    collect_secret_values,
    is_secret_key,
    redact_errors,
    reveal,
    scrub_json_secrets,
    wrap_secrets,
)


def test_a_secret_never_shows_itself() -> None:
    secret = Secret("sk_live_123")
    assert repr(secret) == "Secret('**********')"
    assert str(secret) == MASK and f"{secret}" == MASK and f"{secret:>12}" == f"{MASK:>12}"
    assert secret.get_secret_value() == "sk_live_123"
    assert "sk_live_123" not in repr([secret, {"k": secret}])


def test_secrets_compare_by_value_and_hash_consistently() -> None:
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert Secret("a") != "a"
    assert hash(Secret("a")) == hash(Secret("a"))
    assert copy.deepcopy(Secret("a")) == Secret("a")
    assert pickle.loads(pickle.dumps(Secret("a"))) == Secret("a")
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "secret",
        "secret_key",
        "refresh_token",
        "access_token",
        "password",
        "client_secret",
        "webhook_secret",
        "session_token",
        "db_password",
        "Password",
        "API_KEY",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name", ["kind", "name", "test", "ack_token", "ack_tokens", "truncate_secrets", "token_type"]
)
def test_names_that_are_not_secret(name: str) -> None:
    assert not is_secret_key(name)


def test_scrub_masks_secret_keys_at_any_depth_and_copies() -> None:
    body: dict[str, Any] = {
        "credential": {"properties": {"kind": "k", "secret": "s1", "nested": [{"password": "p"}]}},
        "data": [{"ack_token": "t", "access_token": None}],
    }
    scrubbed = scrub_json_secrets(body)
    assert scrubbed == {
        "credential": {"properties": {"kind": "k", "secret": MASK, "nested": [{"password": MASK}]}},
        "data": [{"ack_token": "t", "access_token": None}],
    }
    assert body["credential"]["properties"]["secret"] == "s1"
    assert scrub_json_secrets({"x": Secret("s")}) == {"x": MASK}


def test_wrap_and_reveal_round_trip() -> None:
    body = {"properties": {"kind": "k", "refresh_token": "rt", "list": [{"password": "pw"}]}}
    wrapped = wrap_secrets(body)
    assert wrapped["properties"]["refresh_token"] == Secret("rt")
    assert wrapped["properties"]["list"][0]["password"] == Secret("pw")
    assert reveal(wrapped) == body
    assert sorted(collect_secret_values(wrapped)) == ["pw", "rt"]


def test_a_credential_wraps_its_secrets_however_it_is_built() -> None:
    built = Credential(properties={"kind": "stripe_key", "secret": "sk_test_1"})
    built.properties = {"kind": "stripe_key", "secret": "sk_test_2"}
    assert built.properties["secret"] == Secret("sk_test_2")
    assert "sk_test" not in repr(built) and "sk_test" not in str(built)


def test_redact_errors_masks_an_echoed_secret() -> None:
    body = {"credential": {"properties": {"secret": "sk_live_echo"}}}
    error = UnprocessableEntityError(
        "Invalid key sk_live_echo",
        status_code=422,
        method="POST",
        path="/v1/syncs",
        body={
            "summary": "Invalid key sk_live_echo",
            "validation_errors": {"credential.properties.secret": ["sk_live_echo is revoked"]},
        },
    )
    with pytest.raises(UnprocessableEntityError) as caught, redact_errors(body):
        raise error
    text = f"{caught.value} {caught.value!r} {caught.value.body} {caught.value.validation_errors}"
    assert "sk_live_echo" not in text
    assert MASK in str(caught.value)
