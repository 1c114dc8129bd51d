"""Tiny random base model directories (LLaMA causal-lm, BERT seq-cls) with a real character tokenizer.

Built from configs and saved as safetensors, so training, saving, loading and pinning run on real
transformers models in well under a second per step, with no downloads.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>", "[CLS]", "[SEP]"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def char_tokenizer(chat_template: bool = True, cls_sep: bool = False):
    """A character-level fast tokenizer (vocab < 128); optionally with a ChatML-style template."""
    from tokenizers import Tokenizer, decoders, models, processors
    from transformers import PreTrainedTokenizerFast

    chars = [c for c in string.printable if c not in "\x0b\x0c"]
    vocab = {tok: i for i, tok in enumerate(SPECIALS + chars)}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.add_special_tokens(SPECIALS)
    backend.decoder = decoders.Fuse()
    if cls_sep:
        backend.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])]
        )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    if chat_template:
        tok.chat_template = CHAT_TEMPLATE
    return tok


def make_llama_dir(
    out: Path,
    seed: int = 0,
    chat_template: bool = True,
    hidden_size: int = 32,
    intermediate_size: int = 64,
    initializer_range: float = 0.02,
) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    tok = char_tokenizer(chat_template)
    config = LlamaConfig(
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=128,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        initializer_range=initializer_range,
    )
    LlamaForCausalLM(config).save_pretrained(out)
    tok.save_pretrained(out)
    return Path(out)


def make_bert_dir(out: Path, seed: int = 0, initializer_range: float = 0.02) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    tok = char_tokenizer(chat_template=False, cls_sep=True)
    config = BertConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        vocab_size=128,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
        initializer_range=initializer_range,
    )
    BertModel(config).save_pretrained(out)
    tok.save_pretrained(out)
    return Path(out)


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def copy_task_rows(n: int = 48) -> list[dict]:
    """A learnable causal-lm task: repeat the prompt's word."""
    words = ["cat", "dog", "sun", "red", "blue", "tree", "moon", "fish"]
    return [{"prompt": f"say {words[i % len(words)]}", "completion": words[i % len(words)]} for i in range(n)]


def sentiment_rows(n: int = 48) -> list[dict]:
    """A learnable seq-cls task with string labels; the classes use disjoint letters, so even a
    random encoder gives them separable representations."""
    good, bad = ["abc deaf", "bead cafe", "faced ace"], ["xyz tory", "sunny pot", "rusty onyx"]
    return [{"text": (good if i % 2 else bad)[i % 3], "label": "pos" if i % 2 else "neg"} for i in range(n)]
