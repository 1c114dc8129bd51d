"""Generation latency with adapters: merged adapters must cost nothing, stacked ones are reported.

SmolLM2 (or ``--base DIR``), 32 new tokens, greedy, one prompt. Every figure is a ratio of medians
from interleaved runs (base, adapted, base, adapted, ...):

* noise floor: base ``model.generate`` vs an identical second copy of the base (what "same speed" reads as);
* merged: base ``model.generate`` vs the same call after 1, 3, 8 LoRAs are folded in (goal <= 1.02);
* stacked (unmerged, fused: one low-rank pair per module): base vs 1, 3, 8 hooked LoRAs, goals
  <= 1.05 / 1.08 / 1.15, and each at most half of PEFT's own unmerged overhead in the same run;
* PEFT unmerged: the same 1, 3, 8 LoRAs loaded in PEFT with ``set_adapter`` on all of them (PEFT's way to run
  several at once; the "half of PEFT's overhead" goal uses these rows, timed in one rotation with the base and
  the stacked row of the same count: base, PEFT, stacked, stacked, PEFT, base, ...), and 3, 8 combined by PEFT's
  ``add_weighted_adapter(combination_type="cat")`` (one adapter of concatenated ranks, PEFT's fused form);
* a bottleneck and a prompt-tuning adapter (cannot merge), reported. Every row runs through the same greedy
  KV-cache loop (``adapters.runtime.generation.greedy_generate``).

Before a row is timed, both sides must produce the same number of new tokens (the same work), and the same
adapters computed two ways must produce the same tokens: fused stack vs PEFT, merged vs stacked, the base vs
its twin. A row that raises (the bottleneck adapter failing to build, attach or run, say) or fails those
checks is printed as a failed ``RESULT`` row with its error, and the bench exits non-zero: never dropped.

Runs alternate ABBA. Every row is measured twice by default (``--threads 1,0``): with torch pinned to one
thread (the ratios hold still on a shared CPU) and with torch's default thread count (what a user gets);
each setting runs in its own process, and each row's name and ``torch_threads`` field say which it is.

    python -m bench.bench_latency --runs 7 [--threads 1,0]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import emit

ROOT = Path(__file__).resolve().parent.parent


def make_lora(base_model, out: Path, seed: int) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    cfg = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
        init_lora_weights=False,
    )
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


class BenchFailure(Exception):
    """A row that could not be measured honestly (it raised, or the two sides did different work)."""


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(base_fn, contenders: list, runs: int, tokens: int):
    """Medians of interleaved runs, base first then each contender, reversed every other round (ABBA, or
    ABCCBA for two contenders), so a slow drift of the machine hits every side alike.

    The warm-up run of each side is checked first: all must produce ``tokens`` new tokens (the same work),
    else nothing is counted. Returns (contenders' medians, base median, contenders' tokens, base tokens)."""
    base_tokens = base_fn()  # warm-up, and the work each side does
    their_tokens = [fn() for fn in contenders]
    for out in their_tokens:
        if out.shape != base_tokens.shape or out.shape[-1] != tokens:
            raise BenchFailure(
                f"the sides did different work: {tuple(out.shape)} vs {tuple(base_tokens.shape)} "
                f"tokens (expected {tokens})"
            )
    sides = [(base_fn, [])] + [(fn, []) for fn in contenders]
    for i in range(runs):
        for fn, times in sides if i % 2 == 0 else sides[::-1]:
            times.append(timed(fn))
    medians = [statistics.median(times) for _, times in sides]
    return medians[1:], medians[0], their_tokens, base_tokens


def same_tokens(label: str, ours, reference) -> None:
    """The same adapters computed two ways must generate the same greedy tokens."""
    if reference is None:
        raise BenchFailure(f"{label}: the reference row failed, so nothing to check against")
    if not bool((ours == reference).all()):
        raise BenchFailure(f"{label}: generated tokens differ, so the two do not compute the same thing")


def report(
    rows: list[dict], name: str, ours: float, ref: float, goal: str | None, ok: bool | None = None, kind: str = ""
) -> None:
    ratio = ours / ref
    if ok is None and goal and goal.startswith("<="):
        ok = ratio <= float(goal[2:])
    row = {
        "kind": kind,
        "name": name,
        "ours": round(ours, 4),
        "reference": round(ref, 4),
        "unit": "s",
        "ratio": round(ratio, 3),
        "goal": goal or "report",
        "ok": ok,
    }
    rows.append(row)
    print(f"{name:<50} {ours:>9.3f} {ref:>11.3f} {ratio:>7.3f}  {row['goal']}", file=sys.stderr)
    emit(row, interleaved=True)


def report_failure(rows: list[dict], name: str, exc: BaseException, kind: str = "") -> None:
    """A row that raised is reported as failed (never dropped): the bench then exits non-zero."""
    message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    row = {
        "kind": kind,
        "name": name,
        "ours": None,
        "reference": None,
        "unit": "s",
        "ratio": None,
        "goal": "runs",
        "ok": False,
        "error": message,
    }
    rows.append(row)
    print(f"{name:<50} FAILED: {message}", file=sys.stderr)
    emit(row, interleaved=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument(
        "--threads",
        default="1,0",
        help="torch thread counts, comma separated, one process each (1 keeps ratios steady on a "
        "shared CPU; 0 = torch's default)",
    )
    args = parser.parse_args()
    settings = [int(t) for t in args.threads.split(",") if t.strip()]
    if len(settings) > 1:  # one process per setting: torch's thread pools are set once per process
        codes = []
        for threads in settings:
            argv = [a for a in sys.argv[1:]]
            if "--threads" in argv:
                at = argv.index("--threads")
                del argv[at : at + 2]
            argv = [a for a in argv if not a.startswith("--threads=")]
            codes.append(
                subprocess.run(
                    [sys.executable, "-m", "bench.bench_latency", *argv, "--threads", str(threads)],
                    check=False,
                    cwd=ROOT,  # as a module from the repository root, like run_all starts it
                ).returncode
            )
        return 0 if all(code == 0 for code in codes) else 1  # a setting killed by a signal has a negative code
    args.threads = settings[0] if settings else 1

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adapters.base.default import ensure_default_base
    from adapters.runtime.generation import greedy_generate
    from adapters.runtime.stack import AdapterStack

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    # the setting is part of every row's name: the ratios move with it
    setting = (
        "1 thread" if args.threads == 1 else (f"{threads} threads" + (" (torch default)" if not args.threads else ""))
    )
    base_dir = Path(args.base) if args.base else ensure_default_base()
    tok = AutoTokenizer.from_pretrained(base_dir)
    enc = tok("Write a short poem about the sea.", return_tensors="pt")
    n = args.new_tokens
    tok_label = f"{n} tok, {setting}"

    def load():
        return AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()

    base_model, work = load(), load()
    tmp = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    loras = [make_lora(load(), tmp / f"lora{i}", i) for i in range(8)]

    @torch.no_grad()
    def loop(model, prepare=None):
        return lambda: greedy_generate(model, enc["input_ids"], enc["attention_mask"], n, None, prepare)

    rows: list[dict] = []
    failed: list[str] = []

    def row(name: str, kind: str, ours_fn, goal=None, judge=None):
        """Time ``ours_fn`` against the base; a failure is reported as a failed row, never dropped."""
        try:
            (ours,), ref, (tokens,), base_tokens = compare(loop(base_model), [ours_fn], args.runs, n)
            ok = judge(ours / ref, tokens, base_tokens) if judge else None
            report(rows, name, ours, ref, goal, ok=ok, kind=kind)
            return ours / ref, tokens
        except Exception as exc:  # noqa: BLE001 - every failure becomes a reported row and a non-zero exit
            report_failure(rows, name, exc, kind=kind)
            failed.append(name)
            return None, None

    print(f"{'figure':<50} {'ours (s)':>9} {'reference':>11} {'ratio':>7}  goal", file=sys.stderr)
    twin = load()  # the noise floor: the base against an identical copy of itself
    row(
        f"noise floor: base vs its twin, {tok_label}",
        "noise",
        loop(twin),
        judge=lambda ratio, tokens, base_tokens: same_tokens("base vs its twin", tokens, base_tokens),
    )
    del twin
    from peft import PeftModel

    peft_model = PeftModel.from_pretrained(load(), loras[0], adapter_name="l0").eval()
    for i, path in enumerate(loras[1:], 1):
        peft_model.load_adapter(path, adapter_name=f"l{i}")
    stack = AdapterStack(work, tok)
    goals = {1: 1.05, 3: 1.08, 8: 1.15}
    for count in (1, 3, 8):
        # PEFT unmerged and our fused stack with the same adapters, timed in one rotation with the base
        # (base, PEFT, stacked, stacked, PEFT, base, ...) so "half PEFT's overhead" compares like with like
        peft_name = f"PEFT unmerged {count} LoRA (set_adapter on all), {tok_label}"
        stacked_name = f"stacked {count} LoRA (fused), {tok_label}"
        try:
            peft_model.base_model.set_adapter([f"l{i}" for i in range(count)])
            while len(stack.entries) < count:
                stack.add(loras[len(stack.entries)], weight=1.0)
            (peft_t, ours), ref, (peft_tokens, stacked_tokens), _ = compare(
                loop(base_model), [loop(peft_model), loop(stack.model)], args.runs, n
            )
            same_tokens(f"fused stack vs PEFT with the same {count} LoRAs", stacked_tokens, peft_tokens)
        except Exception as exc:  # noqa: BLE001 - both rows are reported failed, never dropped
            for name, kind in ((peft_name, "peft"), (stacked_name, "stacked")):
                report_failure(rows, name, exc, kind=kind)
                failed.append(name)
            stacked_tokens = None
        else:
            report(rows, peft_name, peft_t, ref, None, kind="peft")
            half = 1 + (peft_t / ref - 1) / 2
            ratio = ours / ref
            report(
                rows,
                stacked_name,
                ours,
                ref,
                f"<= {goals[count]} and <= {half:.3f} (half PEFT's overhead)",
                ok=ratio <= goals[count] and ratio <= half,
                kind="stacked",
            )
        try:
            stack.merge()
        except Exception as exc:  # noqa: BLE001
            report_failure(rows, f"merged {count} LoRA, {tok_label}", exc, kind="merged")
            failed.append(f"merged {count} LoRA")
            continue

        def merged_judge(ratio, tokens, _, stacked_tokens=stacked_tokens):
            if stacked_tokens is not None:
                same_tokens("merged vs stacked", tokens, stacked_tokens)
            return ratio <= 1.02

        row(f"merged {count} LoRA, {tok_label}", "merged", loop(stack.model), "<= 1.02", merged_judge)
        stack.unmerge()
    stack.detach_all()
    for count in (3, 8):  # PEFT's own fused form: one adapter of concatenated ranks
        name = f"PEFT add_weighted_adapter cat {count} LoRA, {tok_label}"
        try:
            peft_model.base_model.set_adapter([f"l{i}" for i in range(count)])
            reference = loop(peft_model)()
            peft_model.add_weighted_adapter(
                [f"l{i}" for i in range(count)], [1.0] * count, adapter_name=f"cat{count}", combination_type="cat"
            )
            peft_model.set_adapter(f"cat{count}")
        except Exception as exc:  # noqa: BLE001
            report_failure(rows, name, exc, kind="peft")
            failed.append(name)
            continue
        row(
            name,
            "peft",
            loop(peft_model),
            judge=lambda ratio, tokens, _, count=count, reference=reference: same_tokens(
                f"PEFT cat vs set_adapter, {count} LoRAs", tokens, reference
            ),
        )
    del peft_model
    for label, build in (
        ("bottleneck", lambda: make_bottleneck(base_dir, tmp / "bottleneck")),
        ("prompt tuning (20 tokens)", lambda: make_prompt(load(), tmp / "prompt")),
    ):
        name = f"stacked {label}, {tok_label}"
        try:
            stack.add(build())
        except Exception as exc:  # noqa: BLE001 - an adapter that cannot even be built or attached fails its row
            report_failure(rows, name, exc, kind="other")
            failed.append(name)
            continue
        row(name, "other", loop(stack.model, stack.prepare_inputs))
        stack.detach_all()
    if failed:
        print(f"rows that failed: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
