"""Run huggingface_hub's own test suite against a fresh ``hub serve`` and summarise the result.

    .venv/bin/python tools/hf_suite.py [--timeout 1800] [--per-test 120] [-k EXPR] [--files test_hf_api.py ...]

Steps: ``pip download`` the sdist of the *installed* huggingface_hub version (cached under
``build/hf-suite``), unpack its ``tests/``, add the conftest the sdist lacks
(``tools/hf_suite_conftest.py``: the fixtures, and users/tokens/endpoint read from the environment),
start ``hub serve`` on a free loopback port with a fresh data dir and rate limits off, mint the
suite's users and tokens with ``hub admin create-token``, run the seven files of issue #23 minus
``@production``/Xet tests and the Spaces/inference/webhook/paper classes, and print passed/failed/errors
per file, the share of the tests that reached the hub which passed, and the most common failure causes
(written to ``build/hf-suite/summary.md`` and ``.json``, and, for a full run without ``--files``/``-k``,
to ``docs/hf_suite_summary.md`` for the README).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "hf-suite"
CITED = ROOT / "docs" / "hf_suite_summary.md"
FILES = [
    "test_hf_api.py",
    "test_file_download.py",
    "test_snapshot_download.py",
    "test_hf_file_system.py",
    "test_repocard.py",
    "test_commit_scheduler.py",
    "test_hub_mixin.py",
]
# Classes left out: hosted services this hub is not (Spaces, inference, webhooks, papers) and
# classes that only talk to huggingface.co itself.
EXCLUDED = ["Space", "Inference", "Webhook", "Paper", "Production", "TestUserApi", "ExtraLargeFile"]
USERS = {  # suite constant -> (user, org, scope)
    "": ("hf-suite-user", "valid_org_hub", "write"),
    "OTHER_": ("DVUser", None, "write"),
    "ENTERPRISE_": ("EnterpriseAdmin", "EnterpriseOrgPrivate", "write"),
}
# The accounts as the suite's CI finds them on HF's staging hub: its user's display name is
# ``testing_constants.FULL_NAME`` and it belongs to ``valid_org_hub`` ("Dummy Hub Org"), which
# ``test_whoami_with_passing_token`` reads; the Enterprise org creates private repos by default.
ACCOUNT_SETUP = [
    ("set-fullname", "hf-suite-user", "Dummy User"),
    ("set-fullname", "valid_org_hub", "Dummy Hub Org"),
    ("orgs", "private-by-default", "EnterpriseOrgPrivate", "on"),
]
# What the seven files import beyond the project's own lock (pytest-mock: the suite's ``mocker``).
SUITE_EXTRAS = ["pytest-mock==3.15.1", "jedi==0.19.2", "parso==0.8.5"]


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args], check=True)


def fetch_tests(version: str) -> Path:
    """The sdist's ``tests/`` (downloaded once per version) plus our conftest; returns the folder."""
    sdist_dir = WORK / "sdist"
    archive = sdist_dir / f"huggingface_hub-{version}.tar.gz"
    if not archive.exists():
        _pip("download", "--no-binary", ":all:", "--no-deps", f"huggingface_hub=={version}", "-d", str(sdist_dir))
    suite = WORK / f"huggingface_hub-{version}"
    shutil.rmtree(suite, ignore_errors=True)
    with tarfile.open(archive) as tar:
        members = [
            m
            for m in tar.getmembers()
            if m.name.startswith(f"huggingface_hub-{version}/tests/")
            or m.name == f"huggingface_hub-{version}/pyproject.toml"
        ]
        tar.extractall(WORK, members=members, filter="data")
    tests = suite / "tests"
    (tests / "__init__.py").touch()
    shutil.copy(ROOT / "tools" / "hf_suite_conftest.py", tests / "conftest.py")
    return tests


def plugins() -> Path:
    """``SUITE_EXTRAS`` in a folder of their own, never in the project's venv."""
    target = WORK / "plugins"
    if not (target / "jedi").exists():
        _pip("install", "--no-deps", "--target", str(target), *SUITE_EXTRAS)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hub_client.cli", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def start_hub(data: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    log = open(data.parent / "hub-serve.log", "wb")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [sys.executable, "-m", "hub_client.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"hub serve exited; see {log.name}")
        try:
            urllib.request.urlopen(url + "/api/whoami-v2", timeout=1)
        except urllib.error.HTTPError:
            return server, url  # 401: it answers
        except OSError:
            time.sleep(0.3)
            continue
        return server, url
    server.kill()
    raise SystemExit("hub serve did not answer within 60 s")


def suite_env(url: str, tokens: dict[str, str], plugin_dir: Path, run_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_", "HUB_"))}
    env.update(
        HF_ENDPOINT=url,
        HF_SUITE_ENDPOINT=url,
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_EXPERIMENTAL_WARNING="1",
        HF_HOME=str(run_dir / "hf_home"),
        HF_SUITE_ACCESS_LOG=str(run_dir / "access.log"),
        HF_SUITE_REACHED=str(run_dir / "reached.jsonl"),
        PYTHONPATH=os.pathsep.join([str(plugin_dir), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    )
    for prefix, (user, org, _) in USERS.items():
        env[f"HF_SUITE_{prefix}USER"] = user
        env[f"HF_SUITE_{prefix}TOKEN"] = tokens[prefix]
        if org:
            env[f"HF_SUITE_{prefix}ORG"] = org
    return env


def run_pytest(
    tests: Path, files: list[str], env: dict[str, str], junit: Path, per_test: int, total: int, keyword: str | None
) -> bool:
    deselect = " and ".join(f"not {name}" for name in EXCLUDED)
    if keyword:
        deselect = f"({deselect}) and ({keyword})"
    args = [
        sys.executable,
        "-m",
        "pytest",
        *[str(tests / f) for f in files],
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_mock",
        "-c",
        str(tests.parent / "pyproject.toml"),
        "-o",
        "addopts=",
        "-m",
        "not production and not xet and not git_lfs",
        "-k",
        deselect,
        "-q",
        "--no-header",
        "-rN",
        "--continue-on-collection-errors",
        f"--timeout={per_test}",
        f"--junitxml={junit}",
    ]
    try:
        subprocess.run(args, check=False, env=env, cwd=tests.parent, timeout=total)
        return True
    except subprocess.TimeoutExpired:
        return False


_NOISE = [
    (re.compile(r"\s*\(Request ID: [^)]*\)?"), ""),
    (re.compile(r"https?://127\.0\.0\.1:\d+"), "<hub>"),
    (re.compile(r"\b[0-9a-f]{40,64}\b"), "<hash>"),
    (re.compile(r"repo-[0-9a-z-]+"), "<repo>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<id>"),
    (re.compile(r"\d+"), "N"),
    (re.compile(r"/tmp/\S+"), "<tmp>"),
]


_BARE = re.compile(r"Error:( \d+ Client Error\.)?$")


def cause(message: str) -> str:
    """The failure's first line, with the server's message when the first line alone says little
    (``BadRequestError:`` is followed by the hub's one-line error), normalised so alike ones group."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    line = lines[0] if lines else "?"
    if _BARE.search(line.rstrip('"')) and len(lines) > 1:
        line = f"{line} {lines[1]}"
    line = line[:200]
    for pattern, repl in _NOISE:
        line = pattern.sub(repl, line)
    return line


def summarise(junit: Path, reached_file: Path, finished: bool, seconds: float, version: str) -> dict:
    reached = {}
    if reached_file.exists():
        for line in reached_file.read_text().splitlines():
            entry = json.loads(line)
            reached[entry["nodeid"]] = entry
    per_file: dict[str, Counter] = {}
    causes: Counter = Counter()
    server_errors = 0
    root = ET.parse(junit).getroot() if junit.exists() else ET.Element("testsuites")
    cases = []
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        file = next((f for f in FILES if f[:-3] in classname.split(".")), classname)
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed", "error": "errors", "skipped": "skipped"}[tag]
                message = node.get("message") or node.text or ""
                break
        nodeid = f"tests/{file}::" + "::".join([*classname.split(".")[2:], case.get("name", "")])
        hit = reached.get(nodeid, {})
        server_errors += len(hit.get("server_errors", []))
        cases.append((file, classname, outcome, message, bool(hit.get("requests"))))
    # A test whose class-scoped setup failed once errors again without a request: it counts as
    # reaching the hub when another test of its class did.
    reaching_classes = {classname for _, classname, _, _, hit in cases if hit and classname.count(".") >= 2}
    for file, classname, outcome, message, hit in cases:
        counts = per_file.setdefault(file, Counter())
        counts[outcome] += 1
        setup_error = outcome == "errors" and message.startswith("failed on setup")
        if hit or (setup_error and classname in reaching_classes):
            counts["reached"] += 1
            counts[f"reached_{outcome}"] += 1
            if outcome in ("failed", "errors"):
                causes[cause(message)] += 1
    total = sum(per_file.values(), Counter())
    rate = total["reached_passed"] / total["reached"] if total["reached"] else 0.0
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "huggingface_hub": version,
        "seconds": round(seconds),
        "finished": finished,
        "files": {f: dict(c) for f, c in per_file.items()},
        "total": dict(total),
        "reached_pass_rate": round(rate, 4),
        "server_errors": server_errors,
        "top_causes": causes.most_common(20),
    }


def render(summary: dict) -> str:
    t = summary["total"]
    lines = [
        f"# huggingface_hub {summary['huggingface_hub']} test suite against `hub serve`",
        "",
        f"{summary['date']}, {summary['seconds']} s"
        + ("" if summary["finished"] else " (stopped by the overall timeout)"),
        "",
        "| file | passed | failed | errors | skipped | reached the hub | passed of those |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for file, c in sorted(summary["files"].items()):
        lines.append(
            f"| {file} | {c.get('passed', 0)} | {c.get('failed', 0)} | {c.get('errors', 0)} | "
            f"{c.get('skipped', 0)} | {c.get('reached', 0)} | {c.get('reached_passed', 0)} |"
        )
    headline = (
        f"**{t.get('reached_passed', 0)} of {t.get('reached', 0)} tests that reached the hub passed "
        f"({summary['reached_pass_rate']:.0%})**; {summary['server_errors']} responses were 5xx."
    )
    lines += ["", headline, "", "Most common failure causes (tests that reached the hub):", ""]
    lines += [f"- {n} × `{text}`" for text, n in summary["top_causes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=int, default=3600, help="whole run, seconds")
    parser.add_argument("--per-test", type=int, default=120, help="one test, seconds")
    parser.add_argument("--files", nargs="+", default=FILES)
    parser.add_argument("-k", dest="keyword", default=None, help="extra pytest -k expression")
    args = parser.parse_args(argv)

    version = importlib.metadata.version("huggingface_hub")
    WORK.mkdir(parents=True, exist_ok=True)
    tests = fetch_tests(version)
    plugin_dir = plugins()
    run_dir = WORK / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    (data := run_dir / "hub-data").mkdir(parents=True)
    hub_env = {
        **os.environ,
        "HUB_DATA": str(data),
        "HUB_RATE_LIMITS": "0",
        "HUB_ACCESS_LOG": str(run_dir / "access.log"),
        "PYTHONPATH": str(ROOT),
    }
    tokens = {
        prefix: hub_cli("admin", "create-token", user, "--scope", scope, *(["--org", org] if org else []), env=hub_env)
        for prefix, (user, org, scope) in USERS.items()
    }
    for step in ACCOUNT_SETUP:
        hub_cli("admin", *step, env=hub_env)
    server, url = start_hub(data, hub_env)
    started = time.monotonic()
    try:
        finished = run_pytest(
            tests,
            args.files,
            suite_env(url, tokens, plugin_dir, run_dir),
            run_dir / "junit.xml",
            args.per_test,
            args.timeout,
            args.keyword,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = summarise(run_dir / "junit.xml", run_dir / "reached.jsonl", finished, time.monotonic() - started, version)
    text = render(summary)
    (WORK / "summary.md").write_text(text)
    if args.files == FILES and not args.keyword:
        CITED.write_text(text)  # the copy the README cites (tracked): full runs only
    (WORK / "summary.json").write_text(json.dumps(summary, indent=1))
    print(text)
    print(f"written to {WORK / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
