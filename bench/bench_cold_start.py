"""Cold start: ``hub run`` time to first token vs plain transformers + PEFT loading the same base and adapter.

Both sides are fresh processes timed from launch to exit, generating ONE token from the same prompt, so
imports, loading, the base-pin check (ours) and the first forward all count; both must print the same token
(the same work) or the bench fails, as it does when either process exits non-zero. ``hub run`` reads the base
fingerprint from its cache (keyed by path, size and mtime); one extra row shows a run with an empty
fingerprint cache (every tensor hashed again). ABBA order, medians.

    python -m bench.bench_cold_start --runs 5

Goal: ``hub run`` <= 1.1 x the plain transformers + PEFT script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import emit

ROOT = Path(__file__).resolve().parent.parent

PLAIN = """
import sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from peft import PeftModel
base, adapter = sys.argv[1], sys.argv[2]
tok = AutoTokenizer.from_pretrained(base)
model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), adapter).eval()
text = tok.apply_chat_template([{"role": "user", "content": "hello"}], tokenize=False, add_generation_prompt=True)
enc = tok(text, return_tensors="pt", add_special_tokens=False)
with torch.no_grad():
    out = model.generate(**enc, max_new_tokens=1, do_sample=False)
print(tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True))
"""


def make_lora(base_dir: Path, out: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.support.stack_fixtures import pin_adapter

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    cfg = LoraConfig(
        r=8,
        lora_alpha=16,
        task_type="CAUSAL_LM",
        init_lora_weights=False,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
    )
    get_peft_model(model, cfg).save_pretrained(out)
    return pin_adapter(out, base_dir)


def timed(cmd: list[str], env: dict) -> tuple[float, str]:
    """Seconds from launch to exit, and what the process printed (its generated text)."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1][:300]
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited {proc.returncode}: {tail}")
    return elapsed, proc.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from adapters.base.default import ensure_default_base

    base_dir = Path(args.base) if args.base else ensure_default_base()
    work = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    adapter = make_lora(base_dir, work / "lora")
    env = dict(
        os.environ,
        HUB_NO_PROGRESS="1",
        HUB_FINGERPRINT_CACHE=str(work / "fp.json"),
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
    )
    ours_cmd = [
        sys.executable,
        "-m",
        "hub_client.cli",
        "run",
        "--base",
        str(base_dir),
        str(adapter),
        "--prompt",
        "hello",
        "--max-new-tokens",
        "1",
    ]
    plain_cmd = [sys.executable, "-c", PLAIN, str(base_dir), str(adapter)]
    try:
        cold, cold_text = timed(ours_cmd, env)  # the first run fills the fingerprint cache
        ours, plain = [], []
        texts: dict[str, set[str]] = {"hub run": {cold_text}, "transformers + PEFT": set()}
        for i in range(args.runs + 1):  # round 0 warms the page cache and is dropped
            pair = ((ours, ours_cmd, "hub run"), (plain, plain_cmd, "transformers + PEFT"))
            for times, cmd, label in pair if i % 2 == 0 else pair[::-1]:
                elapsed, text = timed(cmd, env)
                texts[label].add(text)
                if i:
                    times.append(elapsed)
        # the same work: one token each, and the same token (the same base and adapter)
        if len(texts["hub run"] | texts["transformers + PEFT"]) != 1:
            raise RuntimeError(f"the two sides generated different text: {texts}")
    except Exception as exc:  # noqa: BLE001 - reported as a failed row, never dropped
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        print(f"cold start FAILED: {message}", file=sys.stderr)
        emit(
            {
                "name": "hub run time to first token vs transformers + PEFT (fingerprint cached)",
                "ours": None,
                "reference": None,
                "unit": "s",
                "ratio": None,
                "goal": "<= 1.1",
                "ok": False,
                "error": message,
            },
            interleaved=True,
            threads=int(os.environ.get("OMP_NUM_THREADS", "1")),
        )
        return 1
    m_ours, m_plain = statistics.median(ours), statistics.median(plain)
    print(f"hub run        median {m_ours:.2f} s   runs " + " ".join(f"{t:.2f}" for t in ours), file=sys.stderr)
    print(f"transformers+PEFT median {m_plain:.2f} s   runs " + " ".join(f"{t:.2f}" for t in plain), file=sys.stderr)
    print(f"hub run with an empty fingerprint cache: {cold:.2f} s", file=sys.stderr)
    for name, value, goal in (
        ("hub run time to first token vs transformers + PEFT (fingerprint cached)", m_ours, "<= 1.1"),
        ("hub run time to first token, empty fingerprint cache, vs transformers + PEFT", cold, None),
    ):
        ratio = value / m_plain
        emit(
            {
                "name": name,
                "ours": round(value, 3),
                "reference": round(m_plain, 3),
                "unit": "s",
                "ratio": round(ratio, 3),
                "goal": goal or "report",
                "ok": None if goal is None else ratio <= 1.1,
            },
            interleaved=True,
            threads=int(os.environ.get("OMP_NUM_THREADS", "1")),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
