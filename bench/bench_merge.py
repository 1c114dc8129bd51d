"""Merge cost: time vs PEFT's ``merge_and_unload`` and the memory peak of ``hub merge``.

* time: attach + merge of N LoRAs in place (ours) vs ``PeftModel.from_pretrained`` + ``load_adapter``
  (both with ``low_cpu_mem_usage=True``, so PEFT does not build and then overwrite random LoRA weights)
  + ``merge_and_unload`` (PEFT) on identical copies of the loaded base; ABBA order, medians; goal ratio
  <= 1.0. The timing counts only once both merged models are checked to hold the same weights (<= 1e-5):
  otherwise the bench fails.
* memory: ``merge_to_dir`` (load, merge, save) in a fresh subprocess; its peak RSS above the
  interpreter-with-libraries baseline must stay <= the fp32 base size + 10% (merging in place never
  holds a second copy of the model).

    python -m bench.bench_merge --adapters 3 --runs 5
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import emit as emit_row

ROOT = Path(__file__).resolve().parent.parent

RSS_CHILD = """
import json, resource, sys, psutil
import torch, transformers, peft  # the libraries are part of the baseline, not of the merge
from adapters.runtime.merge import merge_to_dir
baseline = psutil.Process().memory_info().rss
merge_to_dir({base!r}, {adapters!r}, None, {out!r}, progress=False)
# VmHWM belongs to this process image; ru_maxrss would carry the parent's peak across fork/exec
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")]
peak = int(hwm[0].split()[1]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({{"baseline": baseline, "peak": peak}}))
"""


def fp32_size(model_dir: Path) -> int:
    from safetensors import safe_open

    total = 0
    for path in sorted(Path(model_dir).glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            for key in f.keys():  # noqa: SIM118 - safe_open is not a mapping; keys() is its API
                n = 1
                for dim in f.get_slice(key).get_shape():
                    n *= dim
                total += n * 4
    return total


def make_loras(base_dir: Path, root: Path, count: int) -> list[Path]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.support.stack_fixtures import pin_adapter

    out = []
    for i in range(count):
        torch.manual_seed(i)
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
        cfg = LoraConfig(
            r=16,
            lora_alpha=32,
            task_type="CAUSAL_LM",
            init_lora_weights=False,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        )
        get_peft_model(model, cfg).save_pretrained(root / f"lora{i}")
        out.append(pin_adapter(root / f"lora{i}", base_dir))
    return out


def emit(
    name: str, ours: float, ref: float | None, unit: str, goal: str, ok: bool, interleaved: bool | None = True
) -> None:
    ratio = round(ours / ref, 3) if ref else None
    row = {
        "name": name,
        "ours": round(ours, 4),
        "reference": None if ref is None else round(ref, 4),
        "unit": unit,
        "ratio": ratio,
        "goal": goal,
        "ok": ok,
    }
    ref_text = "-" if ref is None else f"{ref:.3f}"
    print(f"{name:<40} {ours:>10.3f} {ref_text:>10} {ratio!s:>7}  {goal}", file=sys.stderr)
    emit_row(row, interleaved=interleaved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--adapters", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from adapters.base.default import ensure_default_base
    from adapters.runtime.stack import AdapterStack

    base_dir = Path(args.base) if args.base else ensure_default_base()
    tmp = Path(tempfile.mkdtemp(prefix="bench-merge-"))
    loras = make_loras(base_dir, tmp, args.adapters)
    pristine = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()

    def ours(model) -> None:
        stack = AdapterStack(model)
        for path in loras:
            stack.add(path)
        stack.merge()

    def peft(model) -> None:
        names = [f"a{i}" for i in range(len(loras))]
        wrapped = PeftModel.from_pretrained(model, str(loras[0]), adapter_name=names[0], low_cpu_mem_usage=True)
        for name, path in zip(names[1:], loras[1:], strict=False):
            wrapped.load_adapter(str(path), adapter_name=name, low_cpu_mem_usage=True)
        return wrapped.merge_and_unload(adapter_names=names)

    # the two must produce the same model before their times mean anything
    with torch.no_grad():
        mine_model = copy.deepcopy(pristine)
        ours(mine_model)
        theirs_model = peft(copy.deepcopy(pristine))
        theirs_state = theirs_model.state_dict()
        mine_state = mine_model.state_dict()
        if set(mine_state) != set(theirs_state):
            raise SystemExit(f"merged models hold different tensors: {sorted(set(mine_state) ^ set(theirs_state))[:5]}")
        diff = max(float((t - theirs_state[k]).abs().max()) for k, t in mine_state.items())
        pristine_state = pristine.state_dict()
        moved = max(float((t - pristine_state[k]).abs().max()) for k, t in mine_state.items())
    print(
        f"largest weight difference ours vs PEFT after merging: {diff:.2e} "
        f"(largest change a merge made to the base: {moved:.2e})",
        file=sys.stderr,
    )
    if moved < 1e-4:  # two merges that both did nothing would also agree
        raise SystemExit(f"merging changed the base by only {moved:.2e}: the LoRAs were not applied")
    emit_row(
        {
            "name": f"merge {len(loras)} LoRAs: largest weight difference ours vs PEFT (checked before timing)",
            "ours": float(f"{diff:.3g}"),
            "reference": None,
            "unit": "abs",
            "ratio": None,
            "goal": "<= 1e-5",
            "ok": diff <= 1e-5,
        },
        interleaved=None,
    )
    if diff > 1e-5:
        raise SystemExit(f"merged weights differ from PEFT's by {diff:.2e} (> 1e-5): timing not reported")
    del mine_model, theirs_model, theirs_state, mine_state, pristine_state

    times: dict[str, list[float]] = {"ours": [], "peft": []}
    for run in range(args.runs + 1):  # the first round warms up and is dropped
        order = (("ours", ours), ("peft", peft))
        for label, fn in order if run % 2 == 0 else order[::-1]:
            model = copy.deepcopy(pristine)
            start = time.perf_counter()
            with torch.no_grad():
                fn(model)
            elapsed = time.perf_counter() - start
            del model
            if run:
                times[label].append(elapsed)
    print(f"{'figure':<40} {'ours':>10} {'reference':>10} {'ratio':>7}  goal", file=sys.stderr)
    mine, theirs = statistics.median(times["ours"]), statistics.median(times["peft"])
    emit(
        f"merge {len(loras)} LoRAs vs PEFT merge_and_unload (low_cpu_mem_usage, same weights)",
        mine,
        theirs,
        "s",
        "<= 1.0",
        mine <= theirs,
    )

    child = RSS_CHILD.format(base=str(base_dir), adapters=[str(p) for p in loras], out=str(tmp / "merged"))
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True, cwd=ROOT)
    rss = json.loads(proc.stdout.strip().splitlines()[-1])
    size = fp32_size(base_dir)
    used = rss["peak"] - rss["baseline"]
    mib = 1024 * 1024
    emit(
        "merge_to_dir peak RSS above baseline",
        used / mib,
        size / mib,
        "MiB",
        "<= 1.10 (x fp32 base size)",
        used <= 1.10 * size,
        interleaved=None,
    )  # one measurement against the base's size on disk


if __name__ == "__main__":
    main()
