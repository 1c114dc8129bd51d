"""`--objective distill` on tiny LLaMA bases: a teacher adapter distilled into a new LoRA brings the held-out
KL down (by the trainer's figures and by the saved adapter loaded back on the runtime), two stacked LoRAs
compress into one, a teacher prompt distils into a soft adapter and its digest lands in the card, a separate
teacher model trains through the CLI; a missing teacher, a teacher of another vocabulary, bad prompt rows
and a bad teacher prompt are refused in one line with nothing written."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from click.testing import CliRunner

from adapters.card import read_card
from adapters.errors import AdapterError, BaseMismatchError
from adapters.registry import list_methods
from hub_client.cli.main import main
from tests.support.preference_pairs import WORDS
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import char_tokenizer, make_llama_dir, write_jsonl

FAST = {"max_new_tokens": 6, "batch_size": 4, "progress": False}
DISTILL_METHODS = [s.name for s in list_methods() if "distill" in s.objectives]


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama", initializer_range=0.1)  # peaked outputs


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("prompts")
    train = write_jsonl(root / "train.jsonl", [{"prompt": f"say {w}"} for w in WORDS[:8]])
    held = write_jsonl(root / "held.jsonl", [{"prompt": f"say {w}"} for w in WORDS[8:]])
    return train, held


@pytest.fixture(scope="module")
def teacher_loras(llama, tmp_path_factory):
    root = tmp_path_factory.mktemp("teachers")
    return [pin_adapter(make_adapter(llama, root / f"t{seed}", "lora", seed=seed), llama) for seed in (1, 2)]


def _distill(llama, files, out, **kwargs):
    from adapters.training import train

    options = {**FAST, "max_steps": 12, "lr": 3e-2, **kwargs}
    return train(llama, "lora", files[0], out, objective="distill", eval_data=files[1], **options)


def _runtime_kl(llama, student, teachers, prompts) -> float:
    """KL(teacher || student) on the teacher's greedy answers, both loaded back with ``load_stack``."""
    import torch

    from adapters.runtime.stack import load_stack
    from adapters.training.distill import forward_kl

    teacher = load_stack(llama, teachers, merge=False)
    pupil = load_stack(llama, [student] if student else [], merge=False)
    found = []
    for prompt in prompts:
        enc = teacher.encode(prompt)
        answer = teacher.tokenizer(teacher.generate(prompt, max_new_tokens=6), add_special_tokens=False)["input_ids"]
        ids = torch.cat([enc["input_ids"], torch.tensor([answer])], dim=1)
        head = enc["input_ids"].shape[1]
        with torch.no_grad():
            t = teacher(input_ids=ids).logits[:, head - 1 : -1]
            s = pupil(input_ids=ids).logits[:, head - 1 : -1]
        found.append(float(forward_kl(s, t, torch.ones(t.shape[:2]))))
    return sum(found) / len(found)


def test_forward_kl_is_the_textbook_formula_and_top_k_renormalises():
    import torch

    gen = torch.Generator().manual_seed(0)
    s, t = torch.randn(2, 3, 11, generator=gen), torch.randn(2, 3, 11, generator=gen)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    from adapters.training.distill import forward_kl

    p, logq = torch.softmax(t / 2, -1), torch.log_softmax(s / 2, -1)
    per = (p * (p.log() - logq)).sum(-1)
    assert float(forward_kl(s, t, mask, temperature=2.0)) == pytest.approx(float(per[mask.bool()].mean()), rel=1e-5)
    assert float(forward_kl(t, t, mask)) == pytest.approx(0.0, abs=1e-6)
    keep = t.topk(3, -1).indices
    p3, logq3 = torch.softmax(t.gather(-1, keep), -1), torch.log_softmax(s.gather(-1, keep), -1)
    per3 = (p3 * (p3.log() - logq3)).sum(-1)
    assert float(forward_kl(s, t, mask, top_k=3)) == pytest.approx(float(per3[mask.bool()].mean()), rel=1e-5)


def test_a_teacher_adapter_distilled_into_a_new_lora_brings_the_kl_down(llama, files, teacher_loras, tmp_path):
    from adapters.base import pin_for

    out = tmp_path / "student"
    result = _distill(llama, files, out, teacher_adapters=[teacher_loras[0]])
    m = result.metrics
    assert m["teacher_kl_untrained"] > 0.05
    assert m["teacher_kl"] < 0.7 * m["teacher_kl_untrained"], m
    assert 0.0 <= m["greedy_match"] <= 1.0
    card = read_card(out)
    assert "distill" in card.front["tags"] and card.hub["objective"]["name"] == "distill"
    record = card.hub["training"]["distillation"]
    assert record == card.hub["provenance"]["distillation"]
    assert record["teacher"]["base"] == pin_for(llama).to_dict() and record["teacher"]["same_base"] is True
    [adapter] = record["teacher"]["adapters"]
    assert adapter["base"]["fingerprint"] == pin_for(llama).fingerprint and adapter["digest"].startswith("sha256:")
    assert record["teacher"]["prompt"] is None and record["completions"] == "teacher greedy"
    assert record["temperature"] == 1.0 and record["top_k"] is None and record["max_new_tokens"] == 6
    # the saved adapter, loaded back on the runtime (hooks, not PEFT), is closer to the teacher than the base
    prompts = [f"say {w}" for w in WORDS[8:]]
    assert _runtime_kl(llama, out, [teacher_loras[0]], prompts) < 0.8 * _runtime_kl(
        llama, None, [teacher_loras[0]], prompts
    )


def test_two_stacked_loras_compress_into_one(llama, files, teacher_loras, tmp_path):
    out = tmp_path / "compressed"
    result = _distill(llama, files, out, teacher_adapters=teacher_loras, temperature=2.0, top_k=20)
    assert result.metrics["teacher_kl"] < 0.8 * result.metrics["teacher_kl_untrained"], result.metrics
    record = read_card(out).hub["training"]["distillation"]
    digests = [a["digest"] for a in record["teacher"]["adapters"]]
    assert len(digests) == 2 and digests[0] != digests[1]
    assert record["temperature"] == 2.0 and record["top_k"] == 20
    assert json.loads((out / "adapter_config.json").read_text())["peft_type"] == "LORA"


def test_context_distillation_records_the_teacher_prompt_digest(llama, files, tmp_path):
    prompt = tmp_path / "system.txt"
    prompt.write_text("You answer every question in capital letters, twice.\n")
    out = tmp_path / "soft"
    result = _distill(llama, files, out, teacher_prompt=prompt, max_steps=4)
    assert result.metrics["teacher_kl_untrained"] > 0  # the hard prompt changes what the base predicts
    assert all(math.isfinite(v) for v in result.metrics.values())
    teacher = read_card(out).hub["provenance"]["distillation"]["teacher"]
    assert teacher["prompt"] == {
        "path": str(prompt),
        "sha256": "sha256:" + hashlib.sha256(prompt.read_bytes()).hexdigest(),
    }
    assert teacher["adapters"] == [] and teacher["same_base"] is True


SHOTS = [
    {"role": "system", "content": "Repeat the word."},
    {"role": "user", "content": "say cat"},
    {"role": "assistant", "content": "cat"},
    {"role": "user", "content": "say dog"},
    {"role": "assistant", "content": "dog"},
]


def test_a_json_teacher_prompt_is_earlier_chat_turns_the_teacher_alone_sees(llama, files, tmp_path):
    """Few-shot turns (a chat model's natural hard prompt) come before each row's prompt as a conversation."""
    from transformers import AutoTokenizer

    from adapters.training.distill import build_examples
    from adapters.training.teacher import Teacher, TeacherRequest

    shots = tmp_path / "shots.json"
    shots.write_text(json.dumps(SHOTS))
    request = TeacherRequest.from_options("distill", True, None, (), shots, None, None, 4)
    assert request is not None and request.prompt == tuple(SHOTS)
    tokenizer = AutoTokenizer.from_pretrained(llama)
    as_turns = Teacher(None, tokenizer, request.prompt).head_text("say owl")
    assert as_turns == tokenizer.apply_chat_template(
        [*SHOTS, {"role": "user", "content": "say owl"}], tokenize=False, add_generation_prompt=True
    )
    as_text = Teacher(None, tokenizer, json.dumps(SHOTS)).head_text("say owl")
    assert as_turns != as_text and as_turns.count("say") == 3

    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(llama)
    examples = build_examples(
        Teacher(None, tokenizer, request.prompt, base=base), tokenizer, [{"prompt": "say owl"}], 4, 512, "cpu"
    )
    head = tokenizer(as_turns, add_special_tokens=False)["input_ids"]
    teacher_ids = examples[0]["teacher_ids"]
    assert teacher_ids[examples[0]["teacher_start"] - len(head) : examples[0]["teacher_start"]] == head
    # the student's side never sees the shots
    assert examples[0]["student_start"] < examples[0]["teacher_start"]

    out = tmp_path / "soft"
    result = _distill(llama, files, out, teacher_prompt=shots, max_steps=4)
    assert result.metrics["teacher_kl_untrained"] > 0
    recorded = read_card(out).hub["provenance"]["distillation"]["teacher"]["prompt"]
    assert recorded["sha256"] == "sha256:" + hashlib.sha256(shots.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON (line 1"),
        ('{"role": "user", "content": "x"}', "is a list of"),
        ('[{"role": "bot", "content": "x"}]', "message 1: a .json teacher prompt is a list of"),
        ('[{"role": "system", "content": "x"}, {"role": "assistant", "content": 3}]', "message 2:"),
        ('[{"role": "user", "content": "say cat"}]', "the last message is a user turn"),
    ],
)
def test_a_bad_json_teacher_prompt_is_refused_in_one_line(llama, files, tmp_path, text, message):
    shots = tmp_path / "shots.json"
    shots.write_text(text)
    assert str(shots) in _refused(llama, files, tmp_path, message, teacher_prompt=shots)


def test_a_separate_teacher_model_through_the_cli_and_hub_methods_lists_distill(llama, files, tmp_path):
    from adapters.base import pin_for

    teacher = make_llama_dir(tmp_path / "teacher", seed=7, initializer_range=0.1)  # same tokenizer
    out = tmp_path / "from-cli"
    args = ["train", "--base", str(llama), "--method", "lora", "--data", str(files[0]), "--out", str(out)]
    args += ["--objective", "distill", "--teacher", str(teacher), "--max-new-tokens", "4", "--max-steps", "2"]
    args += ["--eval-data", str(files[1]), "--batch-size", "4", "--no-progress", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert {"teacher_kl", "greedy_match", "teacher_kl_untrained"} <= set(shown["metrics"])
    record = read_card(out).hub["training"]["distillation"]["teacher"]
    assert record["base"]["fingerprint"] == pin_for(teacher).fingerprint != pin_for(llama).fingerprint
    assert record["same_base"] is False
    # a hub:// teacher is pulled through the caller's resolver, as bases are
    from adapters.resolver import Resolver
    from adapters.training import train

    pulled: list[str] = []
    resolver = Resolver(pull=lambda ref: pulled.append(ref) or teacher)
    hub_out = tmp_path / "from-hub"
    train(
        llama,
        "lora",
        files[0],
        hub_out,
        objective="distill",
        teacher="hub://acme/teacher@1",
        max_steps=1,
        resolver=resolver,
        **FAST,
    )
    assert pulled == ["hub://acme/teacher@1"]
    assert read_card(hub_out).hub["provenance"]["distillation"]["teacher"]["base"] == record["base"]
    listed = CliRunner().invoke(main, ["methods", "--json"])
    rows = {r["name"]: r for r in json.loads(listed.output)}
    assert "distill" in rows["lora"]["objectives"] and "distill" in rows["prompt_tuning"]["objectives"]


@pytest.mark.parametrize("method", DISTILL_METHODS)
def test_every_distill_method_learns_from_a_teacher_prompt_and_loads_back(method, llama, files, tmp_path):
    """A teacher that is the base alone runs as the student with its adapter disabled (PEFT methods) or as a
    second copy of the base (methods that cannot disable theirs); both paths train and the adapter loads back."""
    from adapters.runtime.stack import load_stack
    from adapters.training import train

    prompt = tmp_path / "teacher.txt"
    prompt.write_text("Answer like a pirate.")
    out = tmp_path / method
    result = train(
        llama,
        method,
        files[0],
        out,
        objective="distill",
        teacher_prompt=prompt,
        eval_data=files[1],
        max_steps=1,
        **FAST,
    )
    assert result.steps == 1 and math.isfinite(result.metrics["teacher_kl"]), result.metrics
    assert read_card(out).hub["method"] == method
    assert isinstance(load_stack(llama, [out]).generate("say cat", max_new_tokens=3), str)


def _other_vocab_llama(out):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tok = char_tokenizer()
    config = LlamaConfig(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4, vocab_size=160
    )
    LlamaForCausalLM(config).save_pretrained(out)
    tok.save_pretrained(out)
    return out


def _refused(llama, files, tmp_path, message: str, data=None, error=AdapterError, **kwargs):
    from adapters.training import train

    out = tmp_path / "refused" / "out"
    with pytest.raises(error) as caught:
        train(llama, "lora", data or files[0], out, objective="distill", max_steps=1, progress=False, **kwargs)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert not (tmp_path / "refused").exists()
    return text


def test_refusals_are_one_line_and_write_nothing(llama, files, teacher_loras, tmp_path):
    _refused(llama, files, tmp_path, "--objective distill needs a teacher")
    _refused(llama, files, tmp_path, "another vocabulary", teacher=_other_vocab_llama(tmp_path / "wide"))
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"prompt": "say cat"}, {"completion": "x"}])
    _refused(llama, files, tmp_path, f"{bad}:2:", data=bad, teacher_adapters=[teacher_loras[0]])
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    _refused(llama, files, tmp_path, "the teacher prompt is empty", teacher_prompt=empty)
    _refused(llama, files, tmp_path, "no such teacher prompt file", teacher_prompt=tmp_path / "missing.txt")
    _refused(llama, files, tmp_path, "--top-k must be at least 1", teacher_prompt=files[1], top_k=0)
    other = make_llama_dir(tmp_path / "other-base", seed=3)
    pinned_elsewhere = pin_adapter(make_adapter(other, tmp_path / "elsewhere", "lora"), other)
    _refused(
        llama, files, tmp_path, "was trained on base", error=BaseMismatchError, teacher_adapters=[pinned_elsewhere]
    )

    from adapters.training import train

    with pytest.raises(AdapterError, match="apply to --objective distill, not 'causal-lm'"):
        train(llama, "lora", files[0], tmp_path / "refused" / "sup", teacher_prompt=files[1], progress=False)
    assert not (tmp_path / "refused").exists()

    out = tmp_path / "cli-out"
    result = CliRunner().invoke(
        main,
        ["train", "--base", str(llama), "--method", "lora", "--data", str(files[0]), "--out", str(out)]
        + ["--objective", "distill", "--no-progress"],
    )
    assert result.exit_code != 0 and not out.exists()
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: --objective distill needs a teacher"), result.output
