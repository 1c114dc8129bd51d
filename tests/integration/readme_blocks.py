"""The README's runnable blocks, and one bash script that runs them in order as a newcomer would.

The rule (also written in README.md, "Every snippet runs"): every fenced block whose info string is ``bash`` or
``python`` runs, top to bottom, in one shell session (variables a block exports are there for the next; a
``python`` block runs as ``python - <<EOF`` in that shell). A block is skipped only when the line just above
its fence is ``<!-- no-run: REASON -->`` with a reason. Output and commands the reader is not meant to run are
written in plain fences (no info string) or ``console`` fences, and are never run.

Port 8000 (the tour's hub) and 8080 (``hub serve-model``) are replaced by free ports; a line that starts a
server in the background (``... &``) is followed by a wait until that port answers.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

RUNNABLE = ("bash", "python")
NO_RUN = re.compile(r"^<!--\s*no-run:\s*(?P<reason>.*?)\s*-->$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[\w+-]*)\s*$")
PORTS = {"8000": "HUB_PORT", "8080": "MODEL_PORT"}


@dataclass(frozen=True)
class Block:
    language: str  # bash | python
    line: int  # 1-based line of the opening fence in README.md
    code: str
    skip_reason: str | None  # the no-run marker's reason, or None when the block runs


def readme_blocks(text: str) -> list[Block]:
    """Every ``bash``/``python`` block in order; a no-run marker above any other fence is an error."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, info = opening.group("indent"), opening.group("info")
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md:{i + 1}: a fence that never closes")
        previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = NO_RUN.match(previous)
        if marker and not marker.group("reason"):
            raise ValueError(f"README.md:{i + 1}: a no-run marker without a reason")
        if info in RUNNABLE:
            code = "\n".join(line.removeprefix(indent) for line in lines[i + 1 : end])
            blocks.append(Block(info, i + 1, code, marker.group("reason") if marker else None))
        elif marker:
            raise ValueError(f"README.md:{i + 1}: a no-run marker above a ```{info} block, which never runs anyway")
        i = end + 1
    return blocks


def _with_ports(code: str, numbers: dict[str, int] | None = None) -> str:
    """README ports -> the shell's variables, or (``numbers``, for python blocks: their heredoc is quoted, so the
    shell expands nothing inside) the chosen port numbers themselves."""
    for port, variable in PORTS.items():
        value = str(numbers[variable]) if numbers else f"${{{variable}}}"
        code = re.sub(rf"(?<![\d.]){port}(?!\d)", value, code)
    return code


def _code_part(line: str) -> str:
    """The line without a trailing ``# comment`` (a ``#`` after whitespace, outside the simple quotes here)."""
    return re.sub(r"\s+#(\s.*)?$", "", line).rstrip()


def _wait_for_port(line: str) -> str:
    port = re.search(r"--port\s+(\$\{\w+\})", line)
    if not port:
        raise ValueError(f"a background command without --port to wait for: {line!r}")
    url = f"http://127.0.0.1:{port.group(1)}/healthz"  # any answer will do: the port is open
    probe = f"import httpx; httpx.get('{url}', timeout=30)"
    return (
        f'for _ in $(seq 1 600); do python -c "{probe}" 2>/dev/null && break; sleep 1; done; '
        f'python -c "{probe}" >/dev/null  # README_WAIT'
    )


def bash_lines(block: Block, ports: dict[str, int] | None = None) -> list[str]:
    if block.language == "python":
        tag = f"README_PY_{block.line}"
        return [f"python - <<'{tag}'", _with_ports(block.code, ports or {"HUB_PORT": 8000, "MODEL_PORT": 8080}), tag]
    code = _with_ports(block.code)
    out = []
    for line in code.splitlines():
        out.append(line)
        code_part = _code_part(line)
        if code_part.endswith("&") and not code_part.endswith("&&"):
            out.append(_wait_for_port(code_part))
    return out


def readme_script(blocks: list[Block], hub_port: int, model_port: int) -> str:
    """One bash script running every runnable block; the first failure names its block and command."""
    out = [
        "set -eEuo pipefail",
        f"HUB_PORT={hub_port}; MODEL_PORT={model_port}; BLOCK=none",
        "trap 'echo \"::failed in $BLOCK: $BASH_COMMAND\" >&2' ERR",
        # stop every server a block started in the background, children included
        "trap 'for p in $(jobs -p); do kill -- -$p 2>/dev/null || kill $p 2>/dev/null; done; wait || true' EXIT",
        "set -m",  # background jobs get their own process group, so the trap stops their children too
    ]
    for block in blocks:
        where = f"the {block.language} block at README.md:{block.line}"
        if block.skip_reason is not None:
            out.append(f"echo {shlex.quote(f'::skipped {where}: {block.skip_reason}')} >&2")
            continue
        out.append(f"BLOCK={shlex.quote(where)}; echo {shlex.quote(f'::block {where}')} >&2")
        out += bash_lines(block, {"HUB_PORT": hub_port, "MODEL_PORT": model_port})
    out.append("echo '::readme done' >&2")
    return "\n".join(out) + "\n"


def load(root: Path) -> list[Block]:
    return readme_blocks((root / "README.md").read_text(encoding="utf-8"))
