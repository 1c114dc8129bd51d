"""Generation latency with adapters: merged adapters must cost nothing, stacked ones are reported.

SmolLM2 (or ``--base DIR``), 32 new tokens, greedy, one prompt. Every figure is a ratio of medians
from interleaved runs (base, adapted, base, adapted, ...):

* noise floor: base ``model.generate`` vs an identical second copy of the base (what "same speed" reads as);
* merged: base ``model.generate`` vs the same call after 1, 3, 8 LoRAs are folded in (goal <= 1.02);
* stacked (unmerged, fused: one low-rank pair per module): base vs 1, 3, 8 hooked LoRAs, goals
  <= 1.05 / 1.08 / 1.15, and each at most half of PEFT's own unmerged overhead in the same run;
* PEFT unmerged: the same 1, 3, 8 LoRAs loaded in PEFT with ``set_adapter`` on all of them (PEFT's way to run
  several at once; the "half of PEFT's overhead" goal uses these rows), and 3, 8 combined by PEFT's
  ``add_weighted_adapter(combination_type="cat")`` (one adapter of concatenated ranks, PEFT's fused form);
* a bottleneck and a prompt-tuning adapter (cannot merge), reported. Every row runs through the same greedy
  KV-cache loop (``adapters.generation.greedy_generate``). A row that cannot run fails the bench.

Runs alternate ABBA; one torch thread by default so the ratios hold still on a shared CPU.

    python bench/bench_latency.py --runs 7 [--threads 0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_lora(base_model, out: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    cfg = LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                     task_type="CAUSAL_LM", init_lora_weights=False)
    peft_model = get_peft_model(base_model, cfg)
    peft_model.save_pretrained(out)
    peft_model.unload()
    return out


def make_prompt(base_model, out: Path) -> Path:
    from peft import PromptTuningConfig, get_peft_model

    peft_model = get_peft_model(base_model, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=20))
    peft_model.save_pretrained(out)
    return out


def make_bottleneck(base_dir: Path, out: Path) -> Path:
    from adapters.base import load_base
    from adapters.registry import get_method

    spec = get_method("bottleneck")
    model, _ = load_base(base_dir)
    options = spec.defaults()
    spec.save(spec.prepare(model, options, "causal-lm"), out, options)
    return out


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(base_fn, ours_fn, runs: int) -> tuple[float, float]:
    """Medians of interleaved runs in ABBA order, so a slow drift of the machine hits both sides alike."""
    base_fn(), ours_fn()  # warm-up
    base_t, ours_t = [], []
    for i in range(runs):
        pair = ((base_t, base_fn), (ours_t, ours_fn))
        for times, fn in (pair if i % 2 == 0 else pair[::-1]):
            times.append(timed(fn))
    return statistics.median(ours_t), statistics.median(base_t)


def report(rows: list[dict], name: str, ours: float, ref: float, goal: str | None, ok: bool | None = None,
           kind: str = "") -> None:
    ratio = ours / ref
    if ok is None and goal and goal.startswith("<="):
        ok = ratio <= float(goal[2:])
    row = {"kind": kind, "name": name, "ours": round(ours, 4), "reference": round(ref, 4), "unit": "s", "ratio": round(ratio, 3),
           "goal": goal or "report", "ok": ok}
    rows.append(row)
    print(f"{name:<44} {ours:>9.3f} {ref:>11.3f} {ratio:>7.3f}  {row['goal']}", file=sys.stderr)
    print("RESULT " + json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 keeps ratios steady on a shared CPU; 0 = torch's default)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adapters.default_base import ensure_default_base
    from adapters.generation import greedy_generate
    from adapters.stack import AdapterStack

    if args.threads:
        torch.set_num_threads(args.threads)
    base_dir = Path(args.base) if args.base else ensure_default_base()
    tok = AutoTokenizer.from_pretrained(base_dir)
    enc = tok("Write a short poem about the sea.", return_tensors="pt")
    n = args.new_tokens

    def load():
        return AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()

    base_model, work = load(), load()
    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    loras = [make_lora(load(), tmp / f"lora{i}", i) for i in range(8)]
    prompt = make_prompt(load(), tmp / "prompt")
    bottleneck = make_bottleneck(base_dir, tmp / "bottleneck")

    @torch.no_grad()
    def loop(model, prepare=None):
        return lambda: greedy_generate(model, enc["input_ids"], enc["attention_mask"], n, None, prepare)

    rows: list[dict] = []
    print(f"{'figure':<44} {'ours (s)':>9} {'reference':>11} {'ratio':>7}  goal", file=sys.stderr)
    twin = load()  # the noise floor: the base against an identical copy of itself
    ours, ref = compare(loop(base_model), loop(twin), args.runs)
    report(rows, f"noise floor: base vs its twin, {n} tok", ours, ref, None, kind="noise")
    del twin
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(load(), loras[0], adapter_name="l0").eval()
    for i, path in enumerate(loras[1:], 1):
        peft_model.load_adapter(path, adapter_name=f"l{i}")
    peft_ratio = {}
    for count in (1, 3, 8):
        peft_model.base_model.set_adapter([f"l{i}" for i in range(count)])
        ours, ref = compare(loop(base_model), loop(peft_model), args.runs)
        peft_ratio[count] = ours / ref
        report(rows, f"PEFT unmerged {count} LoRA (set_adapter on all), {n} tok", ours, ref, None, kind="peft")
    for count in (3, 8):  # PEFT's own fused form: one adapter of concatenated ranks
        peft_model.add_weighted_adapter([f"l{i}" for i in range(count)], [1.0] * count, adapter_name=f"cat{count}",
                                        combination_type="cat")
        peft_model.set_adapter(f"cat{count}")
        ours, ref = compare(loop(base_model), loop(peft_model), args.runs)
        report(rows, f"PEFT add_weighted_adapter cat {count} LoRA, {n} tok", ours, ref, None, kind="peft")
    del peft_model
    stack = AdapterStack(work, tok)
    goals = {1: 1.05, 3: 1.08, 8: 1.15}
    for count in (1, 3, 8):
        while len(stack.entries) < count:
            stack.add(loras[len(stack.entries)], weight=0.5)
        ours, ref = compare(loop(base_model), loop(stack.model), args.runs)
        ratio = ours / ref
        half_peft = 1 + (peft_ratio[count] - 1) / 2
        report(rows, f"stacked {count} LoRA (fused), {n} tok", ours, ref,
               f"<= {goals[count]} and <= {half_peft:.3f} (half PEFT's overhead)",
               ok=ratio <= goals[count] and ratio <= half_peft, kind="stacked")
        stack.merge()
        ours, ref = compare(loop(base_model), loop(stack.model), args.runs)
        report(rows, f"merged {count} LoRA, {n} tok", ours, ref, "<= 1.02", kind="merged")
        stack.unmerge()
    stack.detach_all()
    for label, adapter in (("bottleneck", bottleneck), ("prompt tuning (20 tokens)", prompt)):
        stack.add(adapter)
        ours, ref = compare(loop(base_model), loop(stack.model, stack.prepare_inputs), args.runs)
        report(rows, f"stacked {label}, {n} tok", ours, ref, None, kind="other")
        stack.detach_all()


if __name__ == "__main__":
    main()
