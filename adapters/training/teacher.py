"""The teacher of ``--objective distill``: what was asked for, checked before any weights load, then loaded.

Why its own module: every refusal about a teacher (none given, an empty or unreadable teacher prompt, a
teacher with another vocabulary, a teacher adapter pinned to other weights) must happen before a model
loads or a file is written, and the card must say exactly which teacher the student learned from: the
teacher base's pin (``pin_for``), each teacher adapter's own card pin and a sha256 digest of its files, and
the sha256 digest of the teacher prompt.

A teacher is one of
    ``--teacher T``            another model directory (or ``hub://`` reference, resolved like ``--base``)
    ``--teacher-adapter DIR``  the base (or ``T``) with saved adapters stacked on it (``AdapterStack``)
    ``--teacher-prompt FILE``  a hard prompt the teacher alone sees before every prompt (context distillation):
                               a text file goes in front of the row's prompt; a ``.json`` file is a chat
                               transcript (a list of ``{"role", "content"}`` messages: instructions, few-shot
                               turns) the teacher sees as earlier turns of the conversation
or any mix of them. The base alone with only a teacher prompt runs as the student with its adapter
disabled (no second copy of the weights) when the method's trainable model can disable it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError

__all__ = ["DEFAULT_MAX_NEW_TOKENS", "DEFAULT_TEMPERATURE", "Teacher", "TeacherPlan", "TeacherRequest"]

DEFAULT_TEMPERATURE = 1.0
DEFAULT_MAX_NEW_TOKENS = 32
MAX_NEW_TOKENS_LIMIT = 1024


def _sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dir_digest(folder: Path) -> str:
    """sha256 over a directory's files (relative names and bytes, in name order): what the teacher adapter was."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        digest.update(b"\0")
    return "sha256:" + digest.hexdigest()


CHAT_ROLES = ("system", "user", "assistant")


def _read_prompt_file(path: Path) -> tuple[str | tuple[dict[str, str], ...], str]:
    """The teacher prompt and its digest: text, or (for ``.json``) the chat turns that come before each prompt."""
    if not path.is_file():
        raise AdapterError(f"{path}: no such teacher prompt file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AdapterError(f"{path}: the teacher prompt is not UTF-8 text") from None
    if not text.strip():
        raise AdapterError(f"{path}: the teacher prompt is empty")
    if path.suffix.lower() == ".json":
        return _chat_turns(path, text), _sha256_bytes(raw)
    return text.strip(), _sha256_bytes(raw)


def _chat_turns(path: Path, text: str) -> tuple[dict[str, str], ...]:
    import json

    try:
        found = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AdapterError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    shape = 'a .json teacher prompt is a list of {"role": "system|user|assistant", "content": "..."} messages'
    if not isinstance(found, list) or not found:
        raise AdapterError(f"{path}: {shape}")
    turns = []
    for i, message in enumerate(found, start=1):
        if (
            not isinstance(message, dict)
            or message.get("role") not in CHAT_ROLES
            or not isinstance(message.get("content"), str)
            or not message["content"].strip()
        ):
            raise AdapterError(f"{path}: message {i}: {shape}")
        turns.append({"role": message["role"], "content": message["content"]})
    if turns[-1]["role"] == "user":
        raise AdapterError(f"{path}: the last message is a user turn; the row's prompt is the next user turn")
    return tuple(turns)


@dataclass(frozen=True)
class TeacherRequest:
    """What the user asked for, checked without loading anything (the prompt file is read and digested)."""

    base: str | None
    adapters: tuple[str, ...]
    prompt_path: Path | None
    prompt: str | tuple[dict[str, str], ...] | None  # text, or chat turns from a .json file
    prompt_digest: str | None
    temperature: float
    top_k: int | None
    max_new_tokens: int

    @classmethod
    def from_options(
        cls,
        objective: str,
        uses_teacher: bool,
        teacher: str | Path | None,
        teacher_adapters: Sequence[str | Path] | None,
        teacher_prompt: str | Path | None,
        temperature: float | None,
        top_k: int | None,
        max_new_tokens: int | None,
    ) -> TeacherRequest | None:
        given = {
            "--teacher": teacher is not None,
            "--teacher-adapter": bool(teacher_adapters),
            "--teacher-prompt": teacher_prompt is not None,
            "--temperature": temperature is not None,
            "--top-k": top_k is not None,
            "--max-new-tokens": max_new_tokens is not None,
        }
        if not uses_teacher:
            named = [flag for flag, on in given.items() if on]
            if named:
                raise AdapterError(f"{', '.join(named)} apply to --objective distill, not {objective!r}")
            return None
        if teacher is None and not teacher_adapters and teacher_prompt is None:
            raise AdapterError(
                "--objective distill needs a teacher: --teacher MODEL, --teacher-adapter DIR (on the base) "
                "and/or --teacher-prompt FILE"
            )
        if temperature is not None and not temperature > 0:
            raise AdapterError(f"--temperature must be positive, got {temperature}")
        if top_k is not None and top_k < 1:
            raise AdapterError(f"--top-k must be at least 1, got {top_k}")
        if max_new_tokens is not None and not 1 <= max_new_tokens <= MAX_NEW_TOKENS_LIMIT:
            raise AdapterError(f"--max-new-tokens must be in 1..{MAX_NEW_TOKENS_LIMIT}, got {max_new_tokens}")
        prompt: str | tuple[dict[str, str], ...] | None = None
        digest, path = None, None
        if teacher_prompt is not None:
            path = Path(teacher_prompt)
            prompt, digest = _read_prompt_file(path)
        return cls(
            base=str(teacher) if teacher is not None else None,
            adapters=tuple(str(a) for a in teacher_adapters or ()),
            prompt_path=path,
            prompt=prompt,
            prompt_digest=digest,
            temperature=float(temperature if temperature is not None else DEFAULT_TEMPERATURE),
            top_k=int(top_k) if top_k is not None else None,
            max_new_tokens=int(max_new_tokens if max_new_tokens is not None else DEFAULT_MAX_NEW_TOKENS),
        )

    def resolve(
        self, student_dir: Path, student_pin: Any, resolver: Any = None, allow_base_mismatch: bool = False
    ) -> TeacherPlan:
        """Find the teacher's base and adapters, and refuse any that cannot teach this student (no weights read)."""
        from ..base.load import check_pin, pin_for, resolve_base
        from ..registry import method_for_dir
        from ..resolver import resolve_adapter
        from ..runtime.stack import adapter_front

        base_dir, pin = Path(student_dir), student_pin
        if self.base is not None:
            base_dir = resolve_base(self.base, resolver=resolver)
            check_vocabulary(base_dir, Path(student_dir), self.base)
            pin = pin_for(base_dir)
        dirs, records = [], []
        for ref in self.adapters:
            folder = resolve_adapter(ref, resolver)
            front = adapter_front(folder)
            check_pin(front, pin, allow_mismatch=allow_base_mismatch, adapter_name=str(ref))
            spec = method_for_dir(folder)
            if "causal-lm" not in spec.tasks:
                raise AdapterError(f"teacher adapter {ref}: method {spec.name} does not run causal-lm")
            dirs.append(folder)
            records.append(
                {
                    "path": str(ref),
                    "method": spec.name,
                    "base": (front.get("adapter_hub") or {}).get("base"),
                    "digest": dir_digest(folder),
                }
            )
        return TeacherPlan(self, base_dir, pin, self.base is None, dirs, records)


def check_vocabulary(teacher_dir: Path, student_dir: Path, label: str) -> None:
    """Teacher and student compare next-token distributions id by id: same logit width, same token ids."""
    from transformers import AutoConfig, AutoTokenizer

    def width(folder: Path) -> int | None:
        config = AutoConfig.from_pretrained(folder)
        text = config.get_text_config() if hasattr(config, "get_text_config") else config
        return getattr(text, "vocab_size", None)

    theirs, ours = width(teacher_dir), width(student_dir)
    if theirs != ours:
        raise AdapterError(
            f"teacher {label} has another vocabulary than the base (vocab_size {theirs} vs {ours}); "
            "teacher and student must share a tokenizer"
        )
    try:
        same = (
            AutoTokenizer.from_pretrained(teacher_dir).get_vocab()
            == AutoTokenizer.from_pretrained(student_dir).get_vocab()
        )
    except (OSError, ValueError) as exc:
        raise AdapterError(f"teacher {label}: cannot read its tokenizer ({type(exc).__name__})") from None
    if not same:
        raise AdapterError(
            f"teacher {label} has another tokenizer than the base (same size, other token ids); "
            "teacher and student must share a tokenizer"
        )


@dataclass
class TeacherPlan:
    """A resolved teacher: its base directory and pin, its adapter directories and what the card records."""

    request: TeacherRequest
    base_dir: Path
    pin: Any
    same_base: bool  # the teacher's base is the student's own base
    adapter_dirs: list[Path] = field(default_factory=list)
    adapter_records: list[dict] = field(default_factory=list)

    @property
    def is_base_alone(self) -> bool:
        return self.same_base and not self.adapter_dirs

    def record(self) -> dict[str, Any]:
        """What the card says about the teacher and how the student was fitted to it."""
        req = self.request
        return {
            "teacher": {
                "base": self.pin.to_dict(),
                "same_base": self.same_base,
                "adapters": list(self.adapter_records),
                "prompt": (
                    {"path": str(req.prompt_path), "sha256": req.prompt_digest} if req.prompt_path is not None else None
                ),
            },
            "loss": "forward KL(teacher || student) over the teacher's completion tokens",
            "temperature": req.temperature,
            "top_k": req.top_k,
            "completions": "teacher greedy",
            "max_new_tokens": req.max_new_tokens,
        }

    def load(self, student_base: Any, tokenizer: Any, device: Any) -> Teacher:
        """The teacher, ready to generate and score. The base alone reuses the student's own frozen base."""
        from ..base.load import load_base
        from ..runtime.stack import AdapterStack

        if self.is_base_alone:
            return Teacher(None, tokenizer, self.request.prompt, base=student_base)
        model, teacher_tokenizer = load_base(self.base_dir, task="causal-lm")
        model.to(device)
        stack = AdapterStack(model, teacher_tokenizer, self.pin, "causal-lm")
        for folder, record in zip(self.adapter_dirs, self.adapter_records, strict=True):
            stack.add(folder, pin_checked=True, name=Path(record["path"]).name)
        return Teacher(stack, teacher_tokenizer, self.request.prompt)


class Teacher:
    """Scores and generates for the student to imitate: an ``AdapterStack`` of its own, or the student's base.

    ``bind(student)`` tells a teacher that is the base alone which trainable model to call with its adapter
    disabled; a student that cannot disable its adapter gets a copy of the base instead."""

    def __init__(self, stack: Any, tokenizer: Any, prompt: str | None, base: Any = None) -> None:
        self.stack = stack
        self.tokenizer = tokenizer
        self.prompt = prompt
        self.base = base  # the student's frozen base, before the trainable adapter is added
        self.student: Any = None

    def head_text(self, prompt: str) -> str:
        """What the teacher reads before its answer: a text teacher prompt, a blank line and the row's prompt
        in the user turn; or the chat turns of a ``.json`` teacher prompt, then the row's prompt as the next
        user turn (both through the tokenizer's chat template when it has one)."""
        from .data import format_prompt

        if isinstance(self.prompt, tuple):
            return format_prompt(self.tokenizer, prompt, turns=self.prompt)
        return format_prompt(self.tokenizer, f"{self.prompt}\n\n{prompt}" if self.prompt else prompt)

    def bind(self, student: Any, base_dir: Path, device: Any) -> None:
        if self.stack is not None:
            return
        if hasattr(student, "disable_adapter"):
            self.student = student
            return
        from ..base.load import load_base
        from ..runtime.stack import AdapterStack

        model, _ = load_base(base_dir, task="causal-lm")
        model.to(device)
        self.stack = AdapterStack(model, self.tokenizer, None, "causal-lm")

    def generation_model(self) -> tuple[Any, Any]:
        """``(model, prepare)`` for greedy decoding before training starts."""
        if self.stack is not None:
            return self.stack.model, self.stack.prepare_inputs
        return self.base, None

    def logits(self, input_ids: Any, attention_mask: Any) -> Any:
        """Teacher logits for the real positions of ``input_ids`` (no gradient)."""
        import torch

        with torch.no_grad():
            if self.stack is not None:
                return self.stack(input_ids=input_ids, attention_mask=attention_mask).logits
            student = self.student
            with student.disable_adapter():
                out = student(input_ids=input_ids, attention_mask=attention_mask).logits
            return out[:, -input_ids.shape[1] :]
