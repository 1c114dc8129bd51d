"""Data module: file:line errors, label vocabularies, deterministic splits, completion-only loss masks."""

from __future__ import annotations

import pytest

from adapters.errors import AdapterError
from adapters.training.data import (
    IGNORE_INDEX,
    Collator,
    encode_row,
    format_prompt,
    load_records,
    read_jsonl,
    split_eval,
)
from tests.support.tiny_bases import char_tokenizer, write_jsonl


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n\n{"prompt": "c", "completion": \n')
    with pytest.raises(AdapterError, match=r"train\.jsonl:3: not valid JSON"):
        read_jsonl(path)


def test_wrong_fields_name_the_line(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [{"text": "ok"}, {"prompt": "no completion"}])
    with pytest.raises(AdapterError, match=r"d\.jsonl:2: causal-lm needs"):
        read_jsonl(path)
    path = write_jsonl(tmp_path / "c.jsonl", [{"text": "x", "label": "a"}, {"text": "y", "label": 1.5}])
    with pytest.raises(AdapterError, match=r"c\.jsonl:2: label must be"):
        read_jsonl(path, "seq-cls")
    path = write_jsonl(tmp_path / "l.jsonl", [[1, 2]])
    with pytest.raises(AdapterError, match=r"l\.jsonl:1: expected a JSON object"):
        read_jsonl(path)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(AdapterError, match="no such data file"):
        read_jsonl(tmp_path / "nope.jsonl")
    (tmp_path / "e.jsonl").write_text("\n\n")
    with pytest.raises(AdapterError, match="no records"):
        read_jsonl(tmp_path / "e.jsonl")


def test_label_names_sorted_and_mixed_kinds_refused(tmp_path):
    rec = load_records(
        write_jsonl(tmp_path / "a.jsonl", [{"text": "t", "label": "pos"}, {"text": "u", "label": "neg"}]), "seq-cls"
    )
    assert rec.label_names == ["neg", "pos"] and rec.num_labels == 2
    rec = load_records(
        write_jsonl(tmp_path / "b.jsonl", [{"text": "t", "label": 0}, {"text": "u", "label": 3}]), "seq-cls"
    )
    assert rec.label_names is None and rec.num_labels == 4
    with pytest.raises(AdapterError, match="mix"):
        load_records(
            write_jsonl(tmp_path / "c.jsonl", [{"text": "t", "label": 0}, {"text": "u", "label": "x"}]), "seq-cls"
        )


def test_split_is_deterministic_and_disjoint():
    rows = [{"text": str(i)} for i in range(20)]
    train_a, held_a = split_eval(rows, 0.25, seed=1)
    train_b, held_b = split_eval(rows, 0.25, seed=1)
    assert (train_a, held_a) == (train_b, held_b)
    assert len(held_a) == 5 and len(train_a) == 15
    assert {r["text"] for r in train_a}.isdisjoint({r["text"] for r in held_a})
    assert split_eval(rows, 0.25, seed=2)[1] != held_a
    with pytest.raises(AdapterError):
        split_eval(rows[:1], 0.5)


def test_chat_template_masks_everything_but_the_completion():
    tok = char_tokenizer(chat_template=True)
    enc = encode_row(tok, {"prompt": "say cat", "completion": "cat"}, "causal-lm")
    head = tok(format_prompt(tok, "say cat"), add_special_tokens=False)["input_ids"]
    assert format_prompt(tok, "say cat").endswith("<|im_start|>assistant\n")
    assert enc["input_ids"][: len(head)] == head
    assert enc["labels"][: len(head)] == [IGNORE_INDEX] * len(head)
    learned = [t for t in enc["labels"] if t != IGNORE_INDEX]
    assert learned == tok("cat<|im_end|>\n", add_special_tokens=False)["input_ids"]
    assert len(enc["labels"]) == len(enc["input_ids"])


def test_without_template_the_completion_ends_with_eos():
    tok = char_tokenizer(chat_template=False)
    enc = encode_row(tok, {"prompt": "2+2=", "completion": "4"}, "causal-lm")
    learned = [t for t in enc["labels"] if t != IGNORE_INDEX]
    assert learned == tok("4", add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    plain = encode_row(tok, {"text": "hello"}, "causal-lm")
    assert plain["labels"] == plain["input_ids"]


def test_seq_cls_labels_map_to_ids_and_collator_pads():
    tok = char_tokenizer(chat_template=False, cls_sep=True)
    a = encode_row(tok, {"text": "good", "label": "pos"}, "seq-cls", label_names=["neg", "pos"])
    b = encode_row(tok, {"text": "no", "label": "neg"}, "seq-cls", label_names=["neg", "pos"])
    assert (a["labels"], b["labels"]) == (1, 0)
    batch = Collator(tok.pad_token_id)([a, b])
    assert batch["input_ids"].shape == (2, len(a["input_ids"]))
    short, long_ = len(b["input_ids"]), len(a["input_ids"])
    assert batch["attention_mask"][1].tolist() == [1] * short + [0] * (long_ - short)
    assert batch["labels"].tolist() == [1, 0]
    lm = Collator(0)([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [5], "labels": [5]}])
    assert lm["labels"].tolist() == [[-100, 6, 7], [5, -100, -100]]
