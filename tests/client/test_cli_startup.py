"""The `hub` CLI starts without the heavy libraries: `hub --version` and `hub --help` import neither
httpx nor the client nor the ML core (each command imports what it needs when it runs), and `--help`
still lists every command. Checked by what a fresh interpreter has imported, never by a timed assert
(the start-up time itself is a bench figure: bench/bench_cli_start.py)."""

from __future__ import annotations

import json
import subprocess
import sys

# Modules a command may need but starting the CLI must not import.
HEAVY = (
    "httpx",
    "urllib3",
    "torch",
    "transformers",
    "peft",
    "adapters",
    "hub_server",
    "hub_client.client",
    "hub_client.download",
    "tqdm",
    "yaml",
    "platformdirs",
    "cryptography",
)

# Every top-level command the CLI has; a lazy registration that dropped one would fail here.
COMMANDS = {
    "admin",
    "base",
    "cache",
    "combine",
    "compose",
    "evaluate",
    "find",
    "info",
    "keys",
    "leaderboard",
    "login",
    "logout",
    "merge",
    "methods",
    "pull",
    "push",
    "run",
    "search",
    "serve",
    "serve-model",
    "token",
    "train",
    "verify",
    "versions",
    "webhooks",
    "whoami",
    "worker",
    "yank",
}


def _loaded_heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_cli_and_asking_for_help_loads_no_heavy_module():
    code = (
        "import json, sys\n"
        "import click\n"
        "from click.testing import CliRunner\n"
        "from hub_client.cli import main\n"
        "after_import = sorted(sys.modules)\n"
        "result = CliRunner().invoke(main, ['--help'])\n"
        "print(json.dumps({'import': after_import, 'help': sorted(sys.modules), 'out': result.output,\n"
        "                  'code': result.exit_code, 'commands': main.list_commands(click.Context(main))}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout)
    assert _loaded_heavy(seen["import"]) == []
    assert _loaded_heavy(seen["help"]) == []
    assert seen["code"] == 0
    assert set(seen["commands"]) == COMMANDS
    listed = {line.split()[0] for line in seen["out"].split("Commands:")[1].splitlines() if line.strip()}
    assert listed == COMMANDS


def test_hub_version_as_run_imports_no_heavy_module():
    """The real entry point (`python -m hub_client.cli --version`), its imports read from -X importtime."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hub_client.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "version" in out.stdout
    imported = [
        line.rsplit("|", 1)[1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert "hub_client.cli.main" in imported  # the trace is the CLI's own
    assert _loaded_heavy(imported) == []


def test_hub_version_imports_no_command_module_and_states_the_installed_version():
    from importlib.metadata import version

    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hub_client.cli", "--version"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    imported = [line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines() if "|" in line]
    assert out.stdout.strip().endswith(f"version {version('adapter-hub')}")
    assert [m for m in imported if m.startswith("hub_client.cli.") and m != "hub_client.cli.main"] == []
    assert "importlib.metadata" not in imported  # the version is hub_client.__version__, read without metadata


def test_each_command_module_is_imported_only_for_its_command():
    code = (
        "import sys; from click.testing import CliRunner; from hub_client.cli import main\n"
        "r = CliRunner().invoke(main, ['methods', '--json'])\n"
        "print(r.exit_code, sorted(m for m in sys.modules if m.startswith('hub_client.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    code_, modules = out.stdout.split(" ", 1)
    assert code_ == "0"
    assert "repo_commands" not in modules and "train_commands" not in modules and "model_commands" in modules


def test_the_package_still_offers_its_client_on_first_use():
    code = "import hub_client, sys; print('httpx' in sys.modules); print(hub_client.HubClient.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "hub_client.client"]
