"""``adapters.evaluate`` reports perplexity: on ``{"text"}`` rows over the whole text, on prompt/completion rows
over the completion given the prompt (beside exact match). The value equals the same perplexity computed with
plain transformers (+ PEFT for an adapter), one unpadded row at a time, from the model's own loss, to a relative
1e-5 (float32: a padded batch and a single row sum in different orders); batching and padding change nothing
more than that; ``hub evaluate`` prints it."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from tests.support.stack_fixtures import make_adapter
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

TEXTS = [
    {"text": "the cat sat on the mat"},
    {"text": "a dog"},
    {"text": "blue moon over a quiet red tree, and a fish"},
    {"text": "sun"},
    {"text": "seven words of rather different lengths here"},
]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("ppl")
    base = make_llama_dir(root / "base", seed=3)
    return {
        "root": root,
        "base": base,
        "lora": make_adapter(base, root / "lora", "lora", seed=4),
        "prompt_tuning": make_adapter(base, root / "prompt", "prompt_tuning", seed=5),
        "text": write_jsonl(root / "text.jsonl", TEXTS),
        "pairs": write_jsonl(root / "copy.jsonl", copy_task_rows(6)),
    }


def _plain_model(base, adapter):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    return model.eval()


def _plain_perplexity(base, adapter, rows) -> float:
    """Each row alone, no padding, through transformers (+ PEFT): the cross entropy of the logits at the real
    tokens' positions (a prompt-tuning model's virtual positions dropped) against ``labels`` (-100 where not
    scored). Without virtual tokens this is the model's own ``loss`` times the tokens it averaged, checked too.
    The tokenizer has a chat template, so no BOS is added (as ``hub train`` does); a text row ends with EOS."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base)
    model = _plain_model(base, adapter)
    total, count = 0.0, 0
    for row in rows:
        if "text" in row:
            ids = tok(row["text"] + tok.eos_token, add_special_tokens=False)["input_ids"]
            labels = list(ids)
        else:
            user = [{"role": "user", "content": row["prompt"]}]
            head = tok.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
            full = tok.apply_chat_template([*user, {"role": "assistant", "content": row["completion"]}], tokenize=False)
            ids = tok(full, add_special_tokens=False)["input_ids"]
            cut = len(tok(head, add_special_tokens=False)["input_ids"])
            labels = [-100] * cut + ids[cut:]
        scored = sum(1 for label in labels[1:] if label != -100)
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]))
            logits = out.logits[0, -len(ids) :]
            nll = F.cross_entropy(logits[:-1], torch.tensor(labels[1:]), ignore_index=-100, reduction="sum")
            if out.logits.shape[1] == len(ids):
                own = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss
                assert float(own) * scored == pytest.approx(float(nll), rel=1e-5)
        total += float(nll)
        count += scored
    return math.exp(total / count)


@pytest.mark.parametrize("adapter", [None, "lora", "prompt_tuning"])
def test_text_perplexity_equals_plain_transformers(made, adapter):
    from adapters.evaluation import evaluate

    adapters = [made[adapter]] if adapter else []
    found = evaluate(made["base"], made["text"], adapters, batch_size=3, progress=False)
    expected = _plain_perplexity(made["base"], made[adapter] if adapter else None, TEXTS)
    assert found.perplexity == pytest.approx(expected, rel=1e-5)
    assert found.exact_match is None and found.n == len(TEXTS)
    # a character tokenizer, no BOS: every character after the first, and the EOS
    assert found.tokens == sum(len(r["text"]) for r in TEXTS)
    assert set(found.as_dict()) == {"n", "perplexity", "tokens"}


def test_completion_perplexity_beside_exact_match(made):
    from adapters.evaluation import evaluate

    rows = copy_task_rows(6)
    found = evaluate(made["base"], made["pairs"], [made["lora"]], batch_size=4, progress=False)
    assert found.perplexity == pytest.approx(_plain_perplexity(made["base"], made["lora"], rows), rel=1e-5)
    assert found.exact_match is not None and len(found.predictions) == 6
    # the completion's tokens only: the assistant turn as the template renders it (its characters, <|im_end|>, newline)
    assert found.tokens == sum(len(r["completion"]) + 2 for r in rows)


def test_batching_and_padding_change_nothing(made):
    from adapters.evaluation import evaluate

    one = evaluate(made["base"], made["text"], [made["lora"]], batch_size=1, progress=False).perplexity
    five = evaluate(made["base"], made["text"], [made["lora"]], batch_size=5, progress=False).perplexity
    assert one == pytest.approx(five, rel=1e-5)  # float32 sums; an unmasked pad would move it far more


def test_an_adapter_changes_the_value(made):
    from adapters.evaluation import evaluate

    alone = evaluate(made["base"], made["text"], progress=False).perplexity
    stacked = evaluate(made["base"], made["text"], [made["lora"]], progress=False).perplexity
    assert alone is not None and stacked is not None and abs(alone - stacked) > 1e-3


def test_hub_evaluate_prints_perplexity(made):
    from hub_client.cli.main import main

    shown = CliRunner().invoke(
        main,
        ["evaluate", "--base", str(made["base"]), "--data", str(made["text"]), "--no-progress", "--json"],
    )
    assert shown.exit_code == 0, shown.output
    printed = json.loads(shown.output)
    assert printed["perplexity"] == pytest.approx(_plain_perplexity(made["base"], None, TEXTS), rel=1e-5)
    plain = CliRunner().invoke(
        main, ["evaluate", "--base", str(made["base"]), "--data", str(made["text"]), "--no-progress"]
    )
    assert plain.exit_code == 0 and f"perplexity={printed['perplexity']:.3f}" in plain.output


def test_nothing_to_score_is_one_line(made, tmp_path):
    from adapters.errors import AdapterError
    from adapters.evaluation import evaluate

    empty = write_jsonl(tmp_path / "empty.jsonl", [{"text": ""}, {"text": ""}])  # EOS alone: nothing predicts it
    with pytest.raises(AdapterError, match="^no token to score: every completion is empty or was cut away$"):
        evaluate(made["base"], empty, progress=False)
