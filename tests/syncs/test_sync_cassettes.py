"""The docs' create-sync example, replayed from vcrpy cassettes in ``cassettes/syncs/``.

Recorded from the emulator over real HTTP, stored under the documented host, the token and
credential secrets scrubbed (``sequin_orm.testing.sequin_vcr_config``). Replays need no
server and run with the project's default ``--record-mode=none``. Re-record with::

    pytest --record-mode=rewrite tests/syncs/test_sync_cassettes.py

Matching is on method, URI and JSON body. vcrpy applies ``before_record_request`` to the
incoming request too before matching, so the scrubbed body on disk is compared with the
scrubbed live body: the cassette never needs the secret, and every other byte of the body
must still match. That the unscrubbed body is the seed's, secret included, is checked by
``test_sync_bodies.py`` (pure) and ``test_syncs_api.py`` (the emulator's request log).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.errors import NotFoundError, UnprocessableEntityError
from sequin_orm.secrets import Secret, scrub_json_secrets
from sequin_orm.syncs import Sync
from sequin_orm.testing import sequin_vcr_config

from .seed_example import SECRET, STREAM_ID, request_body

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "syncs"
DOCS_URL = "https://api.sequin.io"
TOKEN = "cassette-token-51ab"
UNKNOWN_SYNC = "5d6f0000-0000-4000-8000-00000000dead"


@pytest.fixture
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return sequin_vcr_config(record_as=DOCS_URL)


@pytest.fixture
def default_client(vcr: Any) -> Iterator[sequin_orm.Client]:
    """The default client: on the docs' host when replaying, on a served emulator (holding the
    seed's stream) when recording."""
    if len(vcr.data) > 0:
        yield sequin_orm.configure(TOKEN, DOCS_URL)
        return
    emulator = Emulator(token=TOKEN)
    emulator.create_stream("choam-prod", id=STREAM_ID)
    with emulator.serve() as url:
        yield sequin_orm.configure(TOKEN, url)


def _sent(vcr: Any) -> list[Any]:
    return [json.loads(r.body) if r.body else None for r in vcr.requests]


@pytest.mark.vcr
def test_create_the_docs_example_sync(default_client: sequin_orm.Client, vcr: Any) -> None:
    sync = Sync.objects.create(**request_body())
    assert _sent(vcr) == [scrub_json_secrets(request_body())]
    assert [(r.method, r.uri) for r in vcr.requests] == [("POST", f"{DOCS_URL}/v1/syncs")]
    assert isinstance(sync, Sync) and sync.name == "Choam Corp - Stripe Production"
    assert sync.stream_id == STREAM_ID and sync.status == "active"
    assert sync.metadata == {"custom_property": 42} and sync.external_id == "{YOUR_EXTERNAL_ID}"
    assert sync.credential is not None and sync.credential.oauth_app_id is not None
    assert isinstance(sync.credential.properties["secret"], Secret)
    assert SECRET not in repr(sync) and SECRET not in str(sync)


@pytest.mark.vcr
def test_get_an_unknown_sync_is_a_404(default_client: sequin_orm.Client, vcr: Any) -> None:
    with pytest.raises(NotFoundError) as caught:
        Sync.objects.get(UNKNOWN_SYNC)
    assert caught.value.status_code == 404
    assert (caught.value.method, caught.value.path) == ("GET", f"/v1/syncs/{UNKNOWN_SYNC}")


@pytest.mark.vcr
def test_create_into_an_unknown_stream_is_a_422(
    default_client: sequin_orm.Client, vcr: Any
) -> None:
    body = {**request_body(), "stream_id": "no-such-stream", "collection_ids": ["stripe:nope"]}
    with pytest.raises(UnprocessableEntityError) as caught:
        Sync.objects.create(**body)
    assert caught.value.status_code == 422
    assert set(caught.value.validation_errors) == {"stream_id", "collection_ids"}
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value.body)


def test_no_secret_or_token_in_any_cassette() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        text = path.read_text()
        assert SECRET not in text, path
        assert TOKEN not in text, path
        assert "Bearer REDACTED" in text, path
