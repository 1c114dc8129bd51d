"""The real SmolLM2 GGUF imports (via `hub base import-gguf`) into a plain model that answers sensibly, under the
model's own id taken from the GGUF metadata; adapters pinned to it then run and combine with no --base."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

pytestmark = pytest.mark.slow


def test_model_id_comes_from_the_gguf_metadata():
    from adapters.base.default import BASE_ID, ensure_default_base
    from adapters.base.gguf_import import gguf_model_id

    gguf = next((ensure_default_base().parent / "downloads").glob("*.gguf"))
    # the file has no repository field: general.organization + the file name without ".Q4_1"
    assert gguf_model_id(gguf) == BASE_ID


def test_import_gguf_cli_matches_default_base_and_generates(tmp_path, monkeypatch):
    from adapters.base.default import BASE_ID, ensure_default_base
    from adapters.base.fingerprint import fingerprint
    from adapters.card import read_card

    default_dir = ensure_default_base()
    gguf = next((default_dir.parent / "downloads").glob("*.gguf"))
    # a machine that knows no base but this import: no default base, empty index, no Hugging Face cache
    monkeypatch.setenv("HUB_BASE_INDEX", str(tmp_path / "bases.json"))
    monkeypatch.setenv("HUB_BASE_CACHE", str(tmp_path / "no-default-base"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HUB_CACHE", str(tmp_path / "hub-cache"))
    out = tmp_path / "smol"
    proc = subprocess.run(
        [sys.executable, "-m", "hub_client.cli", "base", "import-gguf", str(gguf), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = json.loads(proc.stdout)  # the documented shape: {path, id, fingerprint}
    assert set(printed) == {"path", "id", "fingerprint"} and printed["id"] == BASE_ID
    assert Path(printed["path"]).resolve() == out.resolve()

    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config and config["model_type"] == "llama"
    assert not list(out.glob("*.bin")) and (out / "generation_config.json").is_file()
    card = read_card(out)
    assert card.hub["kind"] == "base" and card.front["base_model"] == BASE_ID
    # deterministic dequantization: the same weights as the cached default base, fingerprint included
    assert card.hub["fingerprint"] == fingerprint(out) == read_card(default_dir).hub["fingerprint"]
    assert printed["fingerprint"] == card.hub["fingerprint"]

    again = subprocess.run(
        [sys.executable, "-m", "hub_client.cli", "base", "import-gguf", str(gguf), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1 and "Traceback" not in again.stderr and "not empty" in again.stderr

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    enc = tok.apply_chat_template(
        [{"role": "user", "content": "What is the capital of France?"}],
        add_generation_prompt=True,
        return_tensors="pt",
        return_dict=True,
    )
    with torch.no_grad():
        ids = model.generate(**enc, max_new_tokens=16, do_sample=False)
    answer = tok.decode(ids[0][enc["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer

    _adapters_on_the_import_need_no_base(out, tmp_path)


def _adapters_on_the_import_need_no_base(imported: Path, tmp_path: Path) -> None:
    from hub_client.cli.main import main
    from tests.support.stack_fixtures import make_adapter, pin_adapter

    listed = CliRunner().invoke(main, ["base", "ls"]).output
    assert "import-gguf" in listed and str(imported.absolute()) in listed and BASE_ID_LINE in listed
    a = pin_adapter(make_adapter(imported, tmp_path / "a", "lora", seed=1), imported)
    b = pin_adapter(make_adapter(imported, tmp_path / "b", "lora", seed=2), imported)
    ran = CliRunner().invoke(
        main, ["run", str(a), "--prompt", "What is the capital of France?", "--max-new-tokens", "2"]
    )
    assert ran.exit_code == 0, ran.output
    combined = CliRunner().invoke(main, ["combine", str(a), str(b), "--out", str(tmp_path / "c"), "--no-progress"])
    assert combined.exit_code == 0, combined.output
    assert (tmp_path / "c" / "adapter_model.safetensors").is_file()


BASE_ID_LINE = "HuggingFaceTB/SmolLM2-135M-Instruct"
