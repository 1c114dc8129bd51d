"""combine: one new adapter whose logits equal PEFT's own add_weighted_adapter (LoRA) or the parents stacked
(IA3), with lineage in its card; methods that do not declare combinable are refused in one line."""

from __future__ import annotations

import pytest
import torch

from tests.support.stack_fixtures import load_plain, make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("combine")
    base = make_llama_dir(root / "base")
    loras = [pin_adapter(make_adapter(base, root / f"lora{i}", "lora", seed=i), base) for i in range(2)]
    ia3 = [pin_adapter(make_adapter(base, root / f"ia3_{i}", "ia3", seed=10 + i), base) for i in range(2)]
    return base, loras, ia3


def _peft_reference(base, loras, weights, how, **kwargs):
    from peft import PeftModel

    model = PeftModel.from_pretrained(load_plain(base), loras[0], adapter_name="x0")
    model.load_adapter(loras[1], adapter_name="x1")
    model.add_weighted_adapter(["x0", "x1"], weights, "mix", combination_type=how, **kwargs)
    model.set_adapter("mix")
    return model


@pytest.mark.parametrize("how,kwargs", [("linear", {}), ("cat", {}), ("ties", {"density": 0.5}), ("svd", {})])
def test_combine_equals_peft_add_weighted_adapter(how, kwargs, setup, tmp_path):
    from peft import PeftModel

    from adapters.card import read_card
    from adapters.composition.combine import combine_adapters

    base, loras, _ = setup
    weights = [0.7, 0.4]
    out = combine_adapters(loras, tmp_path / "child", how=how, weights=weights, base=base, **kwargs)
    ids = torch.randint(8, 100, (2, 6), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ours = PeftModel.from_pretrained(load_plain(base), out)(input_ids=ids).logits
        ref = _peft_reference(base, loras, weights, how, **kwargs)(input_ids=ids).logits
        plain = load_plain(base)(input_ids=ids).logits
    assert (ref - plain).abs().max() > 1e-3
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)
    hub = read_card(out).front["adapter_hub"]
    assert [p["weight"] for p in hub["lineage"]] == weights
    assert all(p["fingerprint"].startswith("sha256:") and p["method"] == "lora" for p in hub["lineage"])
    assert hub["base"]["fingerprint"].startswith("sha256:")
    assert hub["combination"]["how"] == how


def test_combine_refuses_mixed_method_families(setup, tmp_path):
    from adapters.composition.combine import combine_adapters
    from adapters.errors import AdapterError

    base, loras, ia3 = setup
    with pytest.raises(AdapterError, match="one method family"):
        combine_adapters([loras[0], ia3[0]], tmp_path / "x", base=base)


def test_combine_refuses_unknown_how(setup, tmp_path):
    from adapters.composition.combine import combine_adapters
    from adapters.errors import AdapterError

    base, loras, _ = setup
    with pytest.raises(AdapterError, match="unknown combination"):
        combine_adapters(loras, tmp_path / "x", how="average", base=base)


def test_combine_progress_bar_shows_each_step_and_hides_on_request(setup, tmp_path, capsys):
    from adapters.composition.combine import combine_adapters

    base, loras, _ = setup
    combine_adapters(loras, tmp_path / "shown", base=base, progress=True)
    shown = capsys.readouterr().err
    assert "combine (linear): 100%" in shown and "4/4" in shown  # two parents, combine, write
    combine_adapters(loras, tmp_path / "hidden", base=base, progress=False)
    assert "combine (" not in capsys.readouterr().err


def test_ia3_combination_equals_the_parents_stacked(setup, tmp_path):
    """IA3's ``stack``: the child at weight 1 is exactly the parents stacked at their weights (hooked and merged),
    and PEFT loads it to the same logits."""
    from peft import PeftModel

    from adapters.card import read_card
    from adapters.composition.combine import combine_adapters
    from adapters.runtime.stack import load_stack

    base, _, ia3 = setup
    weights = [0.7, -0.4]
    out = combine_adapters(ia3, tmp_path / "child", weights=weights, base=base, progress=False)
    ids = torch.randint(8, 100, (2, 6), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        stacked = load_stack(base, ia3, weights, merge=False)(input_ids=ids).logits
        child = load_stack(base, [out], merge=False)(input_ids=ids).logits
        merged_stack = load_stack(base, ia3, weights)
        merged_stack.merge()
        merged = merged_stack(input_ids=ids).logits
        peft = PeftModel.from_pretrained(load_plain(base), out)(input_ids=ids).logits
        plain = load_plain(base)(input_ids=ids).logits
        first = load_stack(base, ia3[:1], [weights[0]], merge=False)(input_ids=ids).logits
    assert (stacked - plain).abs().max() > 1e-3 and (stacked - first).abs().max() > 1e-3
    torch.testing.assert_close(child, stacked, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(child, merged, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(peft, stacked, atol=1e-5, rtol=1e-4)
    card = read_card(out)
    hub = card.front["adapter_hub"]
    assert hub["method"] == "ia3" and "ia3" in card.front["tags"] and "lora" not in card.front["tags"]
    assert hub["combination"] == {"how": "stack", "weights": weights}
    assert all(p["method"] == "ia3" and p["combination"] == "stack" for p in hub["lineage"])
    assert hub["method_options"]["feedforward_modules"] == ["down_proj"]


def test_ia3_offers_only_its_exact_combination(setup, tmp_path):
    from adapters.composition.combine import combine_adapters
    from adapters.errors import AdapterError

    base, _, ia3 = setup
    with pytest.raises(AdapterError, match=r"^unknown combination 'linear' for method ia3; choose one of stack$"):
        combine_adapters(ia3, tmp_path / "x", how="linear", base=base, progress=False)
    assert not (tmp_path / "x").exists()


def test_a_method_without_combinable_is_refused_naming_the_capability(setup, tmp_path):
    from adapters.composition.combine import combine_adapters
    from adapters.errors import AdapterError

    base = setup[0]
    prompts = [pin_adapter(make_adapter(base, tmp_path / f"p{i}", "prompt_tuning", seed=i), base) for i in range(2)]
    with pytest.raises(AdapterError) as caught:
        combine_adapters(prompts, tmp_path / "x", base=base, progress=False)
    assert str(caught.value) == ("method prompt_tuning cannot be combined: its MethodSpec does not declare combinable")
    assert "\n" not in str(caught.value) and not (tmp_path / "x").exists()


def test_cli_combine_of_a_missing_folder_is_one_line_and_writes_nothing(tmp_path):
    from click.testing import CliRunner

    from hub_client.cli.main import main

    out = tmp_path / "combined"
    result = CliRunner().invoke(main, ["combine", str(tmp_path / "missing"), "./also-missing", "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {tmp_path / 'missing'}: no such adapter directory (hub references look like NS/NAME[@VERSION])"
    ]
    assert not out.exists()
