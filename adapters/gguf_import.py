"""Turn a GGUF checkpoint into a plain safetensors model directory we can fingerprint and train on.

GGUF is how small models are shipped for llama.cpp; transformers can dequantize it
(``gguf_file=``). We save the result as fp32 safetensors: the quantized weights are
dequantized anyway, fp32 matches what ``load_base`` trains in (no silent dtype drift
between the fingerprinted files and the model in memory), and bf16 on CPU is slow.
The directory gets a base card carrying its own fingerprint.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import AdapterError

__all__ = ["import_gguf"]


def import_gguf(gguf_path: str | Path, out_dir: str | Path, base_id: str | None = None) -> Path:
    """Dequantize ``gguf_path`` into ``out_dir`` (config, fp32 safetensors, tokenizer, base card)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from .card import write_card
    from .fingerprint import fingerprint

    gguf_path = Path(gguf_path)
    out_dir = Path(out_dir)
    if not gguf_path.is_file():
        raise AdapterError(f"{gguf_path}: no such GGUF file")
    if out_dir.exists() and any(out_dir.iterdir()):
        raise AdapterError(f"{out_dir} already exists and is not empty; choose another --out")
    tmp = out_dir.with_name(out_dir.name + ".partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    folder, name = str(gguf_path.parent), gguf_path.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    except Exception as exc:  # noqa: BLE001 - a bad file is a user mistake, one line
        raise AdapterError(f"{gguf_path}: cannot read as a GGUF model ({type(exc).__name__}: {exc})") from None
    config = model.config
    for attr in ("quantization_config", "gguf_file"):
        if hasattr(config, attr):
            try:
                delattr(config, attr)
            except AttributeError:
                pass
    if base_id:
        config._name_or_path = base_id
    # the weights are already dequantized tensors; drop the GGUF loader's quantizer so they save as plain fp32
    model.hf_quantizer = None
    if hasattr(model, "is_quantized"):
        try:
            model.is_quantized = False
        except AttributeError:
            pass
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    gen = GenerationConfig.from_model_config(config)
    if tokenizer.eos_token_id is not None:
        gen.eos_token_id = tokenizer.eos_token_id
    if tokenizer.pad_token_id is not None:
        gen.pad_token_id = tokenizer.pad_token_id
    gen.save_pretrained(tmp)
    _strip_quantization(tmp / "config.json")
    front = {"library_name": "transformers", "base_model": base_id or gguf_path.stem, "license": "apache-2.0",
             "tags": ["adapter-hub", "base", "gguf-import"],
             "adapter_hub": {"kind": "base", "fingerprint": fingerprint(tmp),
                             "source": {"gguf": gguf_path.name, "dtype": "float32"}}}
    write_card(tmp, front, f"# {base_id or gguf_path.stem}\n\nImported from `{gguf_path.name}` (dequantized to fp32).\n")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists():
        out_dir.rmdir()
    tmp.rename(out_dir)
    return out_dir


def _strip_quantization(config_path: Path) -> None:
    data = json.loads(config_path.read_text())
    data.pop("quantization_config", None)
    data.pop("gguf_file", None)
    config_path.write_text(json.dumps(data, indent=2) + "\n")
