"""Turn a GGUF checkpoint into a plain safetensors model directory we can fingerprint and train on.

GGUF is how small models are shipped for llama.cpp; transformers can dequantize it
(``gguf_file=``). We save the result as fp32 safetensors: the quantized weights are
dequantized anyway, fp32 matches what ``load_base`` trains in (no silent dtype drift
between the fingerprinted files and the model in memory), and bf16 on CPU is slow.
The directory gets a base card carrying its own fingerprint, and the model's own id (from the GGUF
metadata, see ``gguf_model_id``), so a search by base id finds adapters trained on it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import AdapterError

__all__ = ["gguf_model_id", "import_gguf"]

# llama.cpp's metadata keys that hold the model's own repository (a base_model.* key names another model)
REPO_KEYS = (
    "general.source.huggingface.repository",
    "general.source.repo_url",
    "general.repo_url",
    "general.source.url",
    "general.url",
)
_HF_URL = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/([\w.-]+/[\w.-]+?)(?:/.*)?$")
_REPO_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
# quantization tags llama.cpp tools append to file names: .Q4_1, -Q8_0, .IQ4_XS, -f16, .bf16 ...
_QUANT_SUFFIX = re.compile(r"[.-](?:I?Q\d[\w]*|[Ff]16|[Bb][Ff]16|[Ff]32)$")


def _metadata(gguf_path: Path) -> dict[str, object]:
    """The ``general.*`` string fields of a GGUF file (memory-mapped; no tensor is read)."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(gguf_path))
    except Exception as exc:  # noqa: BLE001 - a bad file is a user mistake, one line
        raise AdapterError(f"{gguf_path}: cannot read GGUF metadata ({type(exc).__name__}: {exc})") from None
    found: dict[str, object] = {}
    for key, field in reader.fields.items():
        if key.startswith("general."):
            try:
                found[key] = field.contents()
            except Exception:  # noqa: BLE001, S112 - an odd field is skipped, not fatal
                continue
    return found


def _repo_id(value: object) -> str | None:
    text = str(value or "").strip().rstrip("/")
    match = _HF_URL.match(text)
    if match:
        return match.group(1)
    return text if _REPO_ID.match(text) and "://" not in text else None


def gguf_model_id(gguf_path: str | Path) -> str | None:
    """The model's own id as the GGUF metadata gives it, or None.

    A repository field (``general.source.huggingface.repository``, ``general.repo_url``, ...) wins. Files
    converted without one (the SmolLM2 GGUF carries ``general.organization: HuggingFaceTB`` and a free-text
    ``general.name``) get ``ORGANIZATION/FILE-NAME`` with the quantization tag dropped from the file name."""
    gguf_path = Path(gguf_path)
    meta = _metadata(gguf_path)
    for key in REPO_KEYS:
        if found := _repo_id(meta.get(key)):
            return found
    organization = str(meta.get("general.organization") or "").strip().replace(" ", "-")
    stem = _QUANT_SUFFIX.sub("", gguf_path.stem)
    if organization and stem and _REPO_ID.match(f"{organization}/{stem}"):
        return f"{organization}/{stem}"
    return None


def import_gguf(gguf_path: str | Path, out_dir: str | Path, base_id: str | None = None) -> Path:
    """Dequantize ``gguf_path`` into ``out_dir`` (config, fp32 safetensors, tokenizer, base card)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from ..card import write_card
    from .fingerprint import fingerprint

    gguf_path = Path(gguf_path)
    out_dir = Path(out_dir)
    if not gguf_path.is_file():
        raise AdapterError(f"{gguf_path}: no such GGUF file")
    base_id = base_id or gguf_model_id(gguf_path) or gguf_path.stem
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
    front = {
        "library_name": "transformers",
        "base_model": base_id or gguf_path.stem,
        "license": "apache-2.0",
        "tags": ["adapter-hub", "base", "gguf-import"],
        "adapter_hub": {
            "kind": "base",
            "fingerprint": fingerprint(tmp),
            "source": {"gguf": gguf_path.name, "dtype": "float32"},
        },
    }
    write_card(
        tmp, front, f"# {base_id or gguf_path.stem}\n\nImported from `{gguf_path.name}` (dequantized to fp32).\n"
    )
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
