"""The Proxy API: ``client.proxy(sync_id).request(method, path, json=...)`` against the
emulator, which answers reads from the collections it holds and 501 for what it cannot
emulate."""

from __future__ import annotations

import asyncio

import pytest

import sequin_orm
from sequin_orm.emulator import Emulator
from sequin_orm.errors import APIStatusError, ModelError, NotFoundError
from sequin_orm.proxy import ProxyResponse, proxy_call, read_proxy_response
from sequin_orm.retry import Safety

from ..conftest import TOKEN

ST, SF, HS = "sync-st", "sync-sf", "sync-hs"


def test_get_one_stripe_record(client: sequin_orm.Client, emulator: Emulator) -> None:
    customer = emulator.create_record(ST, "stripe:customer", {"email": "leto@arrakis.org"})
    answer = client.proxy(ST).request("GET", f"/v1/customers/{customer['upstream_id']}")
    assert isinstance(answer, ProxyResponse)
    assert answer.json == customer["data"] and answer.json["object"] == "customer"
    (sent,) = [r for r in emulator.requests if r.path.startswith("/v1/proxy")]
    assert (sent.method, sent.path) == (
        "GET",
        f"/v1/proxy/sync/{ST}/v1/customers/{customer['upstream_id']}",
    )


def test_stripe_lists_and_params_pass_through(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    for i in range(2):
        emulator.create_record(ST, "stripe:customer", {"email": f"c{i}@choam.org"})
    answer = client.proxy(ST).request("GET", "/v1/customers", params={"limit": 10})
    assert answer.json["object"] == "list"
    assert [c["email"] for c in answer.json["data"]] == ["c1@choam.org", "c0@choam.org"]
    (sent,) = [r for r in emulator.requests if r.path.startswith("/v1/proxy")]
    assert sent.query == {"limit": "10"}


def test_salesforce_and_hubspot_reads(client: sequin_orm.Client, emulator: Emulator) -> None:
    contact = emulator.create_record(SF, "salesforce:contact", {"LastName": "Idaho"})
    path = f"/services/data/v60.0/sobjects/Contact/{contact['upstream_id']}"
    assert client.proxy(SF).request("GET", path).json["LastName"] == "Idaho"
    hub = emulator.create_record(HS, "hubspot:contact", {"properties": {"firstname": "Jessica"}})
    answer = client.proxy(HS).request("GET", f"/crm/v3/objects/contacts/{hub['upstream_id']}")
    assert answer.json["properties"]["firstname"] == "Jessica"


def test_a_missing_record_is_the_upstream_404_with_its_body(
    client: sequin_orm.Client,
) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.proxy(ST).request("GET", "/v1/customers/cus_nope")
    assert caught.value.body["error"]["message"] == "No such customer: 'cus_nope'"


def test_an_action_is_the_documented_501_and_sent_once(
    client: sequin_orm.Client, emulator: Emulator
) -> None:
    with pytest.raises(APIStatusError) as caught:
        client.proxy(ST).request("POST", "/v1/refunds", json={"charge": "ch_1"})
    assert caught.value.status_code == 501
    assert "cannot emulate POST /v1/refunds through the Proxy API" in str(caught.value)
    sent = [r for r in emulator.requests if r.path.startswith("/v1/proxy")]
    assert [r.json for r in sent] == [{"charge": "ch_1"}]  # a POST is never retried


def test_an_unknown_sync_is_404(client: sequin_orm.Client) -> None:
    with pytest.raises(NotFoundError):
        client.proxy("no-such-sync").request("GET", "/v1/customers")


# --- pure parts ------------------------------------------------------------------------------


def test_proxy_call_builds_the_request() -> None:
    call = proxy_call("s1", "post", "/v1/payment_intents/pi_1/cancel", json={"reason": "x"})
    assert (call.method, call.path) == ("POST", "/v1/proxy/sync/s1/v1/payment_intents/pi_1/cancel")
    assert call.content == b'{"reason":"x"}' and call.safety is Safety.NOT_IDEMPOTENT
    assert proxy_call("s1", "GET", "/v1/customers").safety is Safety.READ


@pytest.mark.parametrize(
    ("sync_id", "method", "path", "message"),
    [
        ("s1", "TRACE", "/v1/x", "takes GET, POST"),
        ("s1", "GET", "v1/x", "upstream API's path"),
        ("s1", "GET", "/v1/x?limit=1", "params="),
        ("s1", "GET", "/v1/../syncs", "'..' segment"),
        ("../x", "GET", "/v1/x", "sync_id"),
    ],
)
def test_bad_calls_are_refused_before_sending(
    sync_id: str, method: str, path: str, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        proxy_call(sync_id, method, path)
    with pytest.raises(ModelError, match="NaN or infinity"):
        proxy_call("s1", "POST", "/v1/x", json={"amount": float("nan")})


def test_read_proxy_response_keeps_what_is_not_json() -> None:
    call = proxy_call("s1", "GET", "/v1/x")
    assert read_proxy_response(b'{"a": 1}', call).json == {"a": 1}
    assert read_proxy_response(b"", call).json is None
    text = read_proxy_response(b"<html>ok</html>", call)
    assert text.json is None and text.content == b"<html>ok</html>"


def test_the_async_proxy_reads_and_refuses_alike(emulator: Emulator) -> None:
    customer = emulator.create_record(ST, "stripe:customer", {"email": "leto@arrakis.org"})

    async def scenario() -> ProxyResponse:
        async with sequin_orm.AsyncClient(
            TOKEN, "http://127.0.0.1", transport=emulator.transport()
        ) as client:
            proxy = client.proxy(ST)
            assert repr(proxy) == f"AsyncProxy(sync_id={ST!r})"
            with pytest.raises(NotFoundError):
                await proxy.request("GET", "/v1/customers/cus_nope")
            return await proxy.request("GET", f"/v1/customers/{customer['upstream_id']}")

    assert asyncio.run(scenario()).json == customer["data"]
