"""A webhook attempt connects to the address it checked, not to a second DNS answer.

DNS is the third party here: the test answers for a name itself (a public
address first, this machine's loopback after), as a rebinding attacker's
server would, and a real receiver listens on loopback.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from foss_registry.webhooks import delivery
from foss_registry.webhooks.addresses import pinned_request
from tests.functional.standing.receiver import Receiver, start_receiver

PUBLIC = "8.8.8.8"  # a global address; nothing answers it from this machine


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.stop()


def test_a_name_that_changes_its_answer_after_the_check_is_not_followed(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(receiver.url.rsplit(":", 1)[1].split("/", 1)[0])
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "hooks.rebind.example":
            return real(host, *args, **kwargs)
        address = PUBLIC if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with httpx.Client(timeout=1.0, follow_redirects=False, trust_env=False) as client:
        outcome = delivery.attempt(
            client,
            f"http://hooks.rebind.example:{port}/hook",
            "whsec_" + "A" * 32,
            "msg_rebind",
            "{}",
            allow_private=False,
        )
    # Checked once; the connection went to the checked public address and failed there.
    assert answers == [PUBLIC]
    assert outcome["status_code"] is None and outcome["error"]
    assert receiver.received == []


def test_the_pinned_request_keeps_the_host_for_the_receiver_and_for_tls() -> None:
    url, headers, extensions = pinned_request("https://hooks.example.com:8443/in?x=1", PUBLIC)
    assert url == f"https://{PUBLIC}:8443/in?x=1"
    assert headers == {"Host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}

    url, headers, extensions = pinned_request("http://hooks.example.com/in", "2001:4860::8888")
    assert url == "http://[2001:4860::8888]/in"
    assert headers == {"Host": "hooks.example.com"}
    assert extensions == {}
