"""Several adapters, of any mix of methods, active together on one frozen base in an explicit order.

Every adapter is checked against the base's pin before any of its weights is read. Adapters attach
through their method spec (no method names here); those that prepare inputs (virtual tokens, prefix
caches) expose ``prepare_inputs`` and the stack applies it in ``__call__`` and ``generate``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import AdapterError
from ..resolver import Resolver, resolve_adapter
from .fused import link_siblings


@dataclass
class StackEntry:
    name: str
    method: str
    weight: float
    mergeable: bool
    attachment: Any
    path: Path | None = None  # the adapter's local directory
    prepares_inputs: bool = False  # its method's capability: it feeds the model extra positions


def adapter_front(adapter_dir: Path) -> dict:
    """The adapter's card front matter ({} when it has no card of ours)."""
    from ..card import read_card

    card = read_card(adapter_dir)
    return dict(card.front) if card else {}


@dataclass
class FoldedAttachment:
    """What stays of an adapter folded into the weights by ``AdapterStack.fold``: a name and no tensors."""

    name: str
    merged: bool = True
    mergeable: bool = True
    latency_note: str = ""

    def merge(self) -> None:
        """Already in the weights."""

    def unmerge(self) -> None:
        raise AdapterError(f"adapter {self.name} was folded into the weights for good and cannot be unmerged")

    detach = unmerge


class AdapterStack:
    """A base model plus an ordered list of attachments (see ``adapters.registry.Attachment``)."""

    def __init__(self, model: nn.Module, tokenizer: Any = None, pin: Any = None, task: str | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.pin = pin
        self.task = task or (
            "causal-lm"
            if hasattr(model, "generate") and "ForSequenceClassification" not in type(model).__name__
            else "seq-cls"
        )
        self.entries: list[StackEntry] = []
        self.label_names: list[str] | None = None
        self.base_dir: Path | None = None  # set by load_stack: where the base's files are
        self.quantization: str | None = None  # "nf4"/"int8" when the base was loaded quantized
        self.auto_merge = False  # generate/classify fold every mergeable adapter first (load_stack's default)

    # -- building -------------------------------------------------------------------------
    def check(self, adapter_dir: Path | str, allow_base_mismatch: bool = False, name: str | None = None) -> None:
        """Refuse an adapter pinned to other base weights (reads only its card)."""
        if self.pin is None:
            return
        from ..base.load import check_pin

        adapter_dir = Path(adapter_dir)
        check_pin(
            adapter_front(adapter_dir),
            self.pin,
            allow_mismatch=allow_base_mismatch,
            adapter_name=name or str(adapter_dir),
        )

    def add(
        self,
        adapter_dir: Path | str,
        weight: float = 1.0,
        name: str | None = None,
        allow_base_mismatch: bool = False,
        *,
        pin_checked: bool = False,
        resolver: Resolver | None = None,
    ) -> StackEntry:
        """Attach one saved adapter (a directory, or ``NS/NAME[@VERSION]`` pulled by ``resolver``) after those
        already attached."""
        from ..registry import method_for_dir

        adapter_dir = resolve_adapter(adapter_dir, resolver)
        if not pin_checked:
            self.check(adapter_dir, allow_base_mismatch, name)
        spec = method_for_dir(adapter_dir)
        if self.task not in spec.tasks:
            raise AdapterError(f"{adapter_dir}: method {spec.name} does not support task {self.task}")
        name = name or adapter_dir.name
        if any(e.name == name for e in self.entries):
            name = f"{name}#{len(self.entries)}"
        other = next((e for e in self.entries if e.prepares_inputs), None) if spec.prepares_inputs else None
        if other is not None:
            raise AdapterError(
                f"{adapter_dir}: method {spec.name} feeds the model extra positions and only one "
                f"such adapter can be stacked (already have {other.name}, {other.method})"
            )
        attachment = spec.attach(self.model, adapter_dir, weight=weight, name=name)
        if hasattr(attachment, "prepare_inputs") != spec.prepares_inputs:
            attachment.detach()
            raise AdapterError(
                f"{adapter_dir}: method {spec.name}'s attachment "
                f"{'has' if hasattr(attachment, 'prepare_inputs') else 'lacks'} prepare_inputs but "
                f"its MethodSpec says prepares_inputs={spec.prepares_inputs}"
            )
        entry = StackEntry(
            name,
            spec.name,
            float(weight),
            bool(spec.mergeable and attachment.mergeable),
            attachment,
            adapter_dir,
            prepares_inputs=spec.prepares_inputs,
        )
        self.entries.append(entry)
        link_siblings(self.model)  # q/k/v (gate/up) running one low-rank pair each share one x A^T
        return entry

    def _input_preparer(self):
        for entry in self.entries:
            if entry.prepares_inputs:
                return entry.attachment
        return None

    # -- merging --------------------------------------------------------------------------
    def merge(self) -> list[dict]:
        """Fold every mergeable attachment into the weights in place; returns those still attached."""
        from ..training.quantize import check_mergeable

        check_mergeable(self.quantization)
        for entry in self.entries:
            if entry.mergeable:
                entry.attachment.merge()
        return [r for r in self.latency_report() if not r["merged"]]

    def fold(self, entry: StackEntry) -> None:
        """Merge ``entry`` for good and free its adapter tensors: cheaper than ``merge``, with no way back."""
        from ..training.quantize import check_mergeable
        from .memory import release_freed_memory

        check_mergeable(self.quantization)
        entry.attachment.merge()
        entry.attachment = FoldedAttachment(entry.name)
        release_freed_memory()  # the attachment and its hooks form cycles; free its tensors now, not later

    def set_weight(self, name: str, weight: float) -> None:
        """Re-weight one attached adapter in place (hooked ones are re-fused, merged ones re-folded)."""
        entry = next((e for e in self.entries if e.name == name), None)
        if entry is None:
            raise AdapterError(f"no adapter named {name!r} in this stack")
        if not hasattr(entry.attachment, "set_weight"):
            raise AdapterError(f"adapter {name} ({entry.method}) cannot be re-weighted once attached")
        entry.attachment.set_weight(weight)
        entry.weight = float(weight)

    def unmerge(self) -> None:
        for entry in reversed(self.entries):
            if entry.mergeable:
                entry.attachment.unmerge()

    def detach_all(self) -> None:
        """Remove every adapter (unmerging first); the base is left as it was loaded."""
        for entry in reversed(self.entries):
            entry.attachment.detach()
        self.entries = []

    def latency_report(self) -> list[dict]:
        """Per adapter: merged or not, and why an unmerged one still costs time."""
        report = []
        for e in self.entries:
            merged = bool(getattr(e.attachment, "merged", False))
            note = (
                ""
                if merged
                else (
                    getattr(e.attachment, "latency_note", "")
                    or "hooked, not merged: adds a matmul per adapted layer (merge to remove it)"
                )
            )
            report.append(
                {
                    "name": e.name,
                    "method": e.method,
                    "weight": e.weight,
                    "mergeable": e.mergeable,
                    "merged": merged,
                    "note": note,
                }
            )
        return report

    # -- running --------------------------------------------------------------------------
    def prepare_inputs(self, inputs: dict) -> dict:
        preparer = self._input_preparer()
        return preparer.prepare_inputs(self.model, inputs) if preparer is not None else dict(inputs)

    def __call__(self, **inputs: Any):
        """Forward with every attachment active; per-token outputs cover the real tokens only."""
        out = self.model(**self.prepare_inputs(inputs))
        preparer = self._input_preparer()
        strip = getattr(preparer, "strip_positions", 0) if preparer is not None else 0
        if strip and getattr(out, "logits", None) is not None and out.logits.dim() == 3:
            out.logits = out.logits[:, strip:]
        return out

    def encode(self, prompt: str, chat: bool | None = None) -> dict:
        if self.tokenizer is None:
            raise AdapterError("this stack has no tokenizer")
        use_chat = chat if chat is not None else bool(getattr(self.tokenizer, "chat_template", None))
        if use_chat and self.task == "causal-lm":
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            return dict(self.tokenizer(text, return_tensors="pt", add_special_tokens=False))
        return dict(self.tokenizer(prompt, return_tensors="pt"))

    def generate(self, prompt: str, max_new_tokens: int = 32, chat: bool | None = None) -> str:
        """Greedy continuation of ``prompt`` (through the chat template when the tokenizer has one)."""
        from .generation import greedy_generate

        if self.task != "causal-lm":
            raise AdapterError("generate needs a causal-lm base; use classify for a seq-cls stack")
        if self.auto_merge:
            self.merge()
        enc = self.encode(prompt, chat)
        eos = self.tokenizer.eos_token_id
        new = greedy_generate(
            self.model,
            enc["input_ids"],
            enc.get("attention_mask"),
            max_new_tokens,
            eos,
            prepare=self.prepare_inputs if self._input_preparer() else None,
        )
        return self.tokenizer.decode(new[0], skip_special_tokens=True)

    @torch.no_grad()
    def classify(self, text: str) -> list[tuple[str, float]]:
        """Labels with probabilities, most likely first (seq-cls stacks)."""
        if self.task != "seq-cls":
            raise AdapterError("classify needs a seq-cls adapter")
        if self.auto_merge:
            self.merge()
        enc = self.encode(text, chat=False)
        probs = torch.softmax(self(**enc).logits[0], dim=-1)
        id2label = (
            dict(enumerate(self.label_names))
            if self.label_names
            else (getattr(self.model.config, "id2label", None) or {})
        )
        ranked = sorted(range(probs.numel()), key=lambda i: -float(probs[i]))
        return [(str(id2label.get(i, f"LABEL_{i}")), float(probs[i])) for i in ranked]


def adapter_task(adapter_dir: Path, front: dict) -> str | None:
    task = (front.get("adapter_hub") or {}).get("task")
    if task:
        return task
    cfg = adapter_dir / "adapter_config.json"
    task_type = json.loads(cfg.read_text()).get("task_type") if cfg.is_file() else None
    return {"CAUSAL_LM": "causal-lm", "SEQ_CLS": "seq-cls"}.get(task_type or "")


def adapter_num_labels(adapter_dir: Path) -> int | None:
    """Rows of the saved classification head (from the safetensors header, no weights read)."""
    from safetensors import safe_open

    cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    heads = cfg.get("modules_to_save") or []
    path = adapter_dir / "adapter_model.safetensors"
    if not path.is_file():
        return None
    with safe_open(str(path), framework="pt") as f:
        for key in f.keys():  # noqa: SIM118 - safe_open is not a mapping; keys() is its API
            parts = key.split(".")
            if key.endswith(".weight") and any(h in parts for h in heads):
                return int(f.get_slice(key).get_shape()[0])
    return None


def load_stack(
    base: str | Path | None,
    adapters: Sequence[str | Path],
    weights: Sequence[float] | None = None,
    task: str | None = None,
    allow_base_mismatch: bool = False,
    *,
    with_tokenizer: bool = True,
    fold: bool = False,
    resolver: Resolver | None = None,
    quantize: str | None = None,
    merge: bool = True,
) -> AdapterStack:
    """Resolve the base and adapters, check every pin, then load the base once and attach in order.

    ``base=None`` loads the base the adapters are pinned to, found by its fingerprint (see
    ``adapters.base.lookup``); ``resolver`` pulls hub references and offers the hub's bases (the hub client's).
    ``quantize="nf4"|"int8"`` loads the base quantized with bitsandbytes; pins are still checked against
    the full-precision weights on disk, and merging such a stack is refused.
    ``merge=True`` (the default) makes ``generate``/``classify`` fold every mergeable adapter into the
    weights first, so they add no latency (not on a quantized base, which stays hooked); ``merge=False``
    keeps them hooked for switching or re-weighting at run time.

    ``fold=True`` merges each mergeable adapter as soon as it is attached and frees its weights (see
    ``AdapterStack.fold``), so at most one adapter's tensors sit beside the model at any time."""
    from ..base.load import base_dir_for, check_pin, load_base, pin_for
    from ..registry import method_for_dir
    from ..training.quantize import check_backend, check_mergeable

    if fold:
        check_mergeable(quantize)
    weights = list(weights) if weights is not None else [1.0] * len(adapters)
    if len(weights) != len(adapters):
        raise AdapterError(f"{len(weights)} weights for {len(adapters)} adapters")
    dirs = [resolve_adapter(a, resolver) for a in adapters]
    fronts = [adapter_front(d) for d in dirs]
    base_dir = base_dir_for(base, fronts, [str(d) for d in dirs], resolver)
    pin = pin_for(base_dir)
    for d, front in zip(dirs, fronts, strict=False):  # every refusal happens before any weights load
        check_pin(front, pin, allow_mismatch=allow_base_mismatch, adapter_name=str(d))
    specs = [method_for_dir(d) for d in dirs]  # an unknown method is refused before the base loads too
    if quantize is not None:
        for d, spec in zip(dirs, specs, strict=False):
            if not spec.quantizable:
                raise AdapterError(f"{d}: method {spec.name} cannot run on a quantized base; drop --quantize")
        check_backend(quantize)
    tasks = {t for t in (adapter_task(d, f) for d, f in zip(dirs, fronts, strict=False)) if t}
    if task is None:
        if len(tasks) > 1:
            raise AdapterError(f"adapters for different tasks cannot be stacked: {', '.join(sorted(tasks))}")
        task = tasks.pop() if tasks else "causal-lm"
    num_labels, label_names = None, None
    if task == "seq-cls":
        for d, front in zip(dirs, fronts, strict=False):
            label_names = label_names or (front.get("adapter_hub") or {}).get("label_names")
            num_labels = num_labels or adapter_num_labels(d)
        if label_names:
            num_labels = len(label_names)
    model, tokenizer = load_base(
        base_dir,
        task=task,
        num_labels=num_labels,
        label_names=label_names,
        with_tokenizer=with_tokenizer,
        quantize=quantize,
    )
    stack = AdapterStack(model, tokenizer, pin, task)
    stack.quantization = quantize
    stack.label_names = list(label_names) if label_names else None
    stack.base_dir = base_dir
    stack.auto_merge = merge and quantize is None
    for ref, d, w in zip(adapters, dirs, weights, strict=False):
        entry = stack.add(d, weight=w, pin_checked=True, name=adapter_label(ref, d))
        if fold and entry.mergeable:
            stack.fold(entry)
    return stack


def adapter_label(ref: str | Path, adapter_dir: Path) -> str:
    """What reports call an adapter: the hub reference as typed (with the version pulled), else the folder."""
    if isinstance(ref, Path) or Path(ref).is_dir():
        return adapter_dir.name
    return f"{str(ref).partition('@')[0]}@{adapter_dir.name}"  # pulled into .../snapshots/NS/NAME/VERSION
