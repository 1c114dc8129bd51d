"""Cards round-trip through README.md and stay pure Python."""

import subprocess
import sys

import pytest

from adapters.card import card_for_adapter, parse_card, read_card, write_card
from adapters.errors import AdapterError


def test_round_trip(tmp_path):
    front = card_for_adapter(
        method="lora",
        base_id="org/base",
        task="causal-lm",
        pin={"id": "org/base", "revision": None, "fingerprint": "sha256:" + "a" * 64},
        options={"r": 8, "target_modules": ("q_proj", "v_proj")},
        metrics={"eval_loss": 1.5},
    )
    write_card(tmp_path, front, "# hello\n")
    card = read_card(tmp_path)
    assert card.front["adapter_hub"]["base"]["fingerprint"] == "sha256:" + "a" * 64
    assert card.front["adapter_hub"]["method_options"]["target_modules"] == ["q_proj", "v_proj"]
    assert card.hub["method"] == "lora"
    assert card.body == "# hello\n"
    assert (tmp_path / "README.md").read_text().startswith("---\nlibrary_name: peft\n")


def test_missing_card_is_none(tmp_path):
    assert read_card(tmp_path) is None


def test_body_without_front_matter():
    card = parse_card("# just text\n")
    assert card.front == {} and card.body == "# just text\n"


@pytest.mark.parametrize("text", ["---\na: [1\n---\n", "---\n- a\n- b\n---\n", "---\na: 1\n"])
def test_malformed_front_matter_is_an_adapter_error(text):
    with pytest.raises(AdapterError):
        parse_card(text)


def test_card_and_fingerprint_do_not_import_torch():
    code = "import adapters.card, adapters.base.fingerprint, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
