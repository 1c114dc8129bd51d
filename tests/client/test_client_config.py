"""Endpoint and token precedence: argument, environment, saved login, default."""

import os
import stat

from hub_client import config


def test_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_CONFIG_DIR", str(tmp_path))
    monkeypatch.delenv("HUB_ENDPOINT", raising=False)
    monkeypatch.delenv("HUB_TOKEN", raising=False)
    assert config.resolve_endpoint(None) == config.DEFAULT_ENDPOINT
    assert config.resolve_token(None) is None
    path = config.save_login("http://saved:1/", "saved-token")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert config.resolve_endpoint(None) == "http://saved:1"
    assert config.resolve_token(None) == "saved-token"
    assert config.resolve_token(None, "http://saved:1") == "saved-token"
    assert config.resolve_token(None, "http://elsewhere:1") is None  # never sent to another host
    monkeypatch.setenv("HUB_TOKEN", "env-token")
    monkeypatch.setenv("HUB_ENDPOINT", "http://env:2")
    assert config.resolve_token(None) == "env-token"
    assert config.resolve_endpoint(None) == "http://env:2"
    assert config.resolve_token("arg") == "arg"
    assert config.forget_login() is True
    assert config.forget_login() is False
