"""CLI behaviour that needs no server: user mistakes are one line on stderr and exit code 1."""

import pickle
import socket

import pytest
from click.testing import CliRunner

from hub_client.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("HUB_TOKEN", raising=False)
    with socket.socket() as s:  # a port nobody listens on: bind to 0, then release it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HUB_ENDPOINT", f"http://127.0.0.1:{port}")
    return tmp_path


def run(*args):
    return CliRunner().invoke(main, list(args))


def assert_one_line_error(result, fragment):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert fragment in lines[0]
    assert "Traceback" not in result.output


def test_bad_repo_id(env):
    assert_one_line_error(run("pull", "no-slash"), "NAMESPACE/NAME")


def test_unreachable_server(env):
    assert_one_line_error(run("pull", "acme/x@1.0.0"), "cannot reach")


def test_offline_miss(env):
    assert_one_line_error(run("pull", "acme/x@^1.2", "--offline"), "not in the local cache")


def test_pickle_refused_before_any_network(env):
    d = env / "adapter"
    d.mkdir()
    (d / "pytorch_model.bin").write_bytes(pickle.dumps({"w": 1}, protocol=4))  # written, never loaded
    assert_one_line_error(run("push", str(d), "acme/x", "--version", "1.0.0"), "pickle")


def test_bad_version(env):
    d = env / "adapter"
    d.mkdir()
    (d / "a.json").write_text("{}")
    assert_one_line_error(run("push", str(d), "acme/x", "--version", "one"), "semantic version")


def test_long_message_refused_before_any_network(env):
    d = env / "adapter"
    d.mkdir()
    (d / "a.json").write_text("{}")
    result = run("push", str(d), "acme/x", "--version", "1.0.0", "-m", "x" * 70_000)
    assert_one_line_error(result, "the commit message is 70000 characters; the limit is 65536")


def test_yank_needs_a_version(env):
    assert_one_line_error(run("yank", "acme/x", "--reason", "broken"), "which version")


def test_login_with_unreachable_server_saves_nothing(env):
    assert_one_line_error(run("login", "--token", "t"), "cannot reach")
    assert not (env / "config" / "auth.json").exists()


def test_logout_when_logged_out(env):
    result = run("logout")
    assert result.exit_code == 0 and "Not logged in" in result.output
