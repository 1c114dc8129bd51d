"""The webhook target rule (``hub_rules.webhook_targets``) the hub applies when a webhook is saved and the
worker again before each delivery: URL shape, public addresses only (every IP form of loopback, private,
link-local, shared and reserved space refused), and the pinned URL the worker connects to."""

from __future__ import annotations

import pytest

from hub_rules import TargetRefused
from hub_rules.webhook_targets import check_target, check_url, is_public, pinned_url, resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared (CGNAT)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "ff02::1",
        "fe80::1%eth0",
        "not-an-address",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert is_public(address)


@pytest.mark.parametrize(
    "url, message",
    [
        (None, "a webhook needs a url (http:// or https://)"),
        ("", "a webhook needs a url (http:// or https://)"),
        ("file:///etc/passwd", "a webhook url must start with http:// or https://, not file"),
        ("gopher://8.8.8.8/", "a webhook url must start with http:// or https://, not gopher"),
        ("https://u:p@8.8.8.8/", "a webhook url may not carry a user name or password; use the webhook's secret"),
        ("https://8.8.8.8/a b", "the webhook url may not contain spaces or control characters"),
        ("https://8.8.8.8/\r\nX-Evil: 1", "the webhook url may not contain spaces or control characters"),
        ("https:///path", "the webhook url has no host"),
        ("https://8.8.8.8:99999/", "the webhook url is not a valid URL: Port out of range 0-65535"),
        ("https://" + "a" * 2000, "the webhook url is longer than 2000 characters"),
    ],
)
def test_bad_urls_are_refused_with_one_line(url, message):
    with pytest.raises(TargetRefused) as refused:
        check_url(url)
    assert str(refused.value) == message


def test_names_and_ip_spellings_that_reach_loopback_are_refused():
    for url, host in (
        ("http://localhost:8080/x", "localhost"),
        ("http://2130706433/x", "2130706433"),  # 127.0.0.1 as one number
        ("http://0x7f.1/x", "0x7f.1"),
        ("http://[::1]/x", "::1"),
    ):
        with pytest.raises(TargetRefused) as refused:
            check_target(url, allow_private=False)
        assert str(refused.value).startswith(f"the webhook host {host} resolves to "), url
        assert str(refused.value).endswith("this hub does not send webhooks there")
    assert check_target("http://localhost:8080/x", allow_private=True).port == 8080  # the operator allows it


def test_the_pinned_url_keeps_path_query_and_host_header():
    target = check_url("https://Hooks.Example.org:8443/in/coming?x=1#frag")
    assert (target.host, target.port, target.host_header, target.is_https) == (
        "hooks.example.org",
        8443,
        "hooks.example.org:8443",
        True,
    )
    assert pinned_url(target, "93.184.215.14") == "https://93.184.215.14:8443/in/coming?x=1"
    assert pinned_url(target, "2606:4700::1") == "https://[2606:4700::1]:8443/in/coming?x=1"
    plain = check_url("http://[2606:4700::1]")
    assert (plain.port, plain.host_header) == (80, "[2606:4700::1]")
    assert resolve(check_url("http://8.8.8.8/x"), allow_private=False) == ["8.8.8.8"]
