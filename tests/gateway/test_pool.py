"""Concurrent requests each get a proxy of their own from the pool (a nameko proxy serves one
greenthread at a time), and the pool never grows past its size."""

from __future__ import annotations

import eventlet

from services.gateway.app import Gateway
from services.gateway.client import GatewayClient
from services.gateway.rpc_pool import RpcPool


def test_concurrent_requests_are_all_answered(live_gateway: str, gateway: Gateway) -> None:
    public = GatewayClient(live_gateway)
    pool = eventlet.GreenPool(24)
    answers = list(pool.imap(lambda _: public.cadre.open_notices(), range(48)))
    assert len(answers) == 48 and all(set(answer) == {"items"} for answer in answers)
    assert isinstance(gateway.caller, RpcPool)
    assert 1 <= gateway.caller._created <= gateway.caller.size
