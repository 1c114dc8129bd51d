"""AdapterFusion (``--method fusion``) on a tiny LLaMA: training moves only the fusion layers (the members' files
and tensors stay byte-equal, the base too); a one-member fusion at initialisation IS that member (a softmax over
one score is exactly 1 and the value projection is the identity); the saved adapter loads back to the logits of
the model still in memory, also from a copied folder, and refuses a member changed after saving; members that are
not bottleneck adapters, pinned to other weights, or placed differently are refused in one line with nothing
written; ``hub merge`` keeps it attached and says why in one line; ``hub methods`` lists it; and members given as
``ns/name@version`` are pulled from a real hub through the resolver the CLI passes, then the fusion is pushed and
pulled back and runs to the same logits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from adapters.base import load_base
from adapters.card import read_card
from adapters.errors import AdapterError, BaseMismatchError
from adapters.methods.bottleneck import BOTTLENECK
from adapters.methods.fusion import FUSION
from adapters.methods.fusion.members import files_digest, resolve_members
from adapters.registry import get_method
from adapters.runtime.stack import load_stack
from adapters.training import train
from hub_client.cli.main import main
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

FAST = {"batch_size": 8, "eval_fraction": 0.25, "progress": False}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("fusion")
    base = make_llama_dir(root / "llama")
    data = write_jsonl(root / "lm.jsonl", copy_task_rows())
    members = {}
    for name, options in {
        "m1": {"reduction_factor": 4},
        "m2": {"reduction_factor": 8, "non_linearity": "gelu"},
        "houlsby": {"variant": "houlsby"},
    }.items():
        members[name] = train(
            base, "bottleneck", data, root / name, options=options, max_steps=6, lr=3e-2, **FAST
        ).output_dir
    members["lora"] = train(base, "lora", data, root / "lora", max_steps=1, **FAST).output_dir
    other = make_llama_dir(root / "llama-other", seed=1)
    members["elsewhere"] = train(other, "bottleneck", data, root / "elsewhere", max_steps=1, **FAST).output_dir
    return base, data, members


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _logits(model, tok, text="say moon"):
    with torch.no_grad():
        return model(**tok(text, return_tensors="pt")).logits


def _fuse(setup, out, members=("m1", "m2"), value=True, **kwargs):
    """A dynamic fusion (value projections, the default) unless ``value=False``."""
    base, data, found = setup
    options = {"adapters": [str(found[m]) for m in members], "value": value}
    return train(base, "fusion", data, out, options=options, **{"max_steps": 10, "lr": 3e-2, **FAST, **kwargs})


def test_training_moves_only_the_fusion_layers(setup, tmp_path):
    base, _, found = setup
    before = {m: _files(found[m]) for m in ("m1", "m2")}
    result = _fuse(setup, tmp_path / "fused")
    assert {m: _files(found[m]) for m in ("m1", "m2")} == before  # the members' own files untouched

    fresh = dict(load_base(base)[0].named_parameters())
    member_tensors = [load_file(str(found[m] / "adapter_model.safetensors")) for m in ("m1", "m2")]
    moved, fusion_names = 0, 0
    for name, param in result.model.named_parameters():
        if ".members." in name:  # "<site>.fusion_K.members.<i>.<down|up>.<weight|bias>"
            site, rest = name.split(".fusion_", 1)
            index, key = rest.split(".members.", 1)[1].split(".", 1)
            assert not param.requires_grad
            assert torch.equal(param.detach(), member_tensors[int(index)][f"{site}.{key}"]), name
        elif ".fusion." in name:
            fusion_names += 1
            assert param.requires_grad
            init = torch.eye(param.shape[0]) if name.endswith("value.weight") else None
            moved += int(init is not None and not torch.equal(param.detach(), init))
        else:
            assert not param.requires_grad
            assert torch.equal(param.detach(), fresh[name].detach()), name
    assert fusion_names == 2 * 6  # two blocks (pfeiffer: after the feed-forward), query/key/value weight + bias
    assert moved == 2  # every value projection left the identity: the fusion did train

    saved = load_file(str(result.output_dir / "adapter_model.safetensors"))
    assert saved and all(k.rsplit(".", 2)[-2] in ("query", "key", "value") for k in saved)


def test_one_member_fusion_is_exactly_that_member(setup):
    """At initialisation, with ONE member, the softmax weight is exactly 1 whatever query and key are, and the
    value projection (dynamic fusion) is the identity, so the fused output is bit for bit the member's own output."""
    base, _, found = setup
    model, tok = load_base(base)
    plain = _logits(model, tok)
    BOTTLENECK.attach(model, found["m1"])
    member_alone = _logits(model, tok)
    assert not torch.allclose(member_alone, plain, atol=1e-4)  # the member does change the output

    for value in (False, True):  # static (no value projection) and dynamic (an identity one)
        model, tok = load_base(base)
        fused = FUSION.prepare(model, {"adapters": [str(found["m1"])], "value": value}, "causal-lm")
        assert torch.equal(_logits(fused, tok), member_alone), value
    site = next(iter(fused._fusion[1].sites.values()))
    hidden = torch.randn(3, 5, model.config.hidden_size)
    assert torch.equal(site.fusion.weights(hidden, hidden.unsqueeze(-2) * 2), torch.ones(3, 5, 1))

    # with two members the first mix is a convex one: between the two, not either
    model, tok = load_base(base)
    two = FUSION.prepare(model, {"adapters": [str(found["m1"]), str(found["m2"])]}, "causal-lm")
    assert not torch.equal(_logits(two, tok), member_alone)


def test_static_fusion_has_no_value_projection_and_always_mixes_its_members(setup, tmp_path):
    """Static fusion (``value=false``): no value tensors are saved, the config says so, it loads back to the
    trained logits, and its output at every site is a convex mix of the members' outputs (per coordinate
    between the smallest and largest member output), however far training moved query and key."""
    base, _, found = setup
    options = {"adapters": [str(found[m]) for m in ("m1", "m2")], "value": False}
    result = train(base, "fusion", setup[1], tmp_path / "static", options=options, max_steps=10, lr=3e-1, **FAST)
    out = result.output_dir
    saved = load_file(str(out / "adapter_model.safetensors"))
    assert saved and {k.rsplit(".", 2)[-2] for k in saved} == {"query", "key"}
    assert json.loads((out / "adapter_config.json").read_text())["value"] is False
    expected = _logits(result.model, result.tokenizer)
    stack = load_stack(base, [out], task="causal-lm")
    torch.testing.assert_close(_logits(stack, result.tokenizer), expected, atol=1e-5, rtol=0)

    site = next(iter(result.model._fusion[1].sites.values()))
    hidden = torch.randn(2, 4, result.model.config.hidden_size)
    outputs = torch.stack([member(hidden) for member in site.members], dim=-2)
    fused = site.fusion(hidden, outputs)
    assert torch.all(fused >= outputs.min(-2).values - 1e-5) and torch.all(fused <= outputs.max(-2).values + 1e-5)
    with torch.no_grad():
        site.fusion.query.weight.mul_(1e3)  # a very peaked attention is still a mix of the members
    fused = site.fusion(hidden, outputs)
    assert torch.all(fused >= outputs.min(-2).values - 1e-4) and torch.all(fused <= outputs.max(-2).values + 1e-4)

    bad = dict(json.loads((out / "adapter_config.json").read_text()), value="no")
    (out / "adapter_config.json").write_text(json.dumps(bad))
    with pytest.raises(AdapterError, match="value must be true or false") as err:
        load_stack(base, [out], task="causal-lm")
    assert "\n" not in str(err.value)


def test_save_attach_round_trip_and_card(setup, tmp_path):
    base, _, found = setup
    result = _fuse(setup, tmp_path / "fused")
    out = result.output_dir
    expected = _logits(result.model, result.tokenizer)

    stack = load_stack(base, [out], task="causal-lm")
    torch.testing.assert_close(_logits(stack, result.tokenizer), expected, atol=1e-5, rtol=0)
    assert stack.latency_report()[0]["merged"] is False

    moved = Path(shutil.copytree(out, tmp_path / "elsewhere" / "copy"))  # self-contained: members inside
    torch.testing.assert_close(
        _logits(load_stack(base, [moved], task="causal-lm"), result.tokenizer), expected, atol=1e-5, rtol=0
    )

    config = json.loads((out / "adapter_config.json").read_text())
    assert config["peft_type"] == "FUSION" and config["variant"] == "pfeiffer"
    assert [m["path"] for m in config["members"]] == ["members/0", "members/1"]
    for i, m in enumerate(("m1", "m2")):
        assert config["members"][i]["digest"] == files_digest(found[m])
        assert config["members"][i]["id"] == m and config["members"][i]["ref"] is None
        assert _files(out / "members" / str(i)) == {
            k: v
            for k, v in _files(found[m]).items()
            if k in ("README.md", "adapter_config.json", "adapter_model.safetensors")
        }
    card = read_card(out)
    hub = card.front["adapter_hub"]
    assert hub["method"] == "fusion" and hub["task"] == "causal-lm"
    assert [(e["id"], e["digest"], e["method"]) for e in hub["lineage"]] == [
        (m, files_digest(found[m]), "bottleneck") for m in ("m1", "m2")
    ]
    assert "Built from:" in card.body and files_digest(found["m2"]) in card.body

    # a member changed after saving is refused in one line
    weights = moved / "members" / "1" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + b" ")
    with pytest.raises(AdapterError, match="differ from the recorded digest") as err:
        load_stack(base, [moved], task="causal-lm")
    assert "\n" not in str(err.value)


def test_weight_zero_is_the_base_and_a_hostile_member_path_is_refused(setup, tmp_path):
    base, _, _ = setup
    out = _fuse(setup, tmp_path / "fused", max_steps=3).output_dir
    model, tok = load_base(base)
    plain = _logits(model, tok)
    assert torch.equal(_logits(load_stack(base, [out], [0.0], task="causal-lm"), tok), plain)
    assert not torch.allclose(_logits(load_stack(base, [out], task="causal-lm"), tok), plain, atol=1e-4)

    config_path = out / "adapter_config.json"
    config = json.loads(config_path.read_text())
    for bad in ("../../etc", "/abs/members/0", "members/0/../../x", "elsewhere/0"):
        config["members"][0]["path"] = bad
        config_path.write_text(json.dumps(config))
        with pytest.raises(AdapterError, match="member") as err:
            load_stack(base, [out], task="causal-lm")
        assert "\n" not in str(err.value), bad


@pytest.mark.parametrize(
    "members,error,words",
    [
        (("m1", "lora"), AdapterError, "fusion member .*lora is not a bottleneck adapter"),
        (("m1", "elsewhere"), BaseMismatchError, "fusion member .*elsewhere was trained on base"),
        (("m1", "houlsby"), AdapterError, "is a houlsby adapter but .*m1 is pfeiffer"),
        ((), AdapterError, "fusion needs its members"),
    ],
)
def test_bad_members_are_refused_in_one_line_with_nothing_written(setup, tmp_path, members, error, words):
    with pytest.raises(error, match=words) as err:
        _fuse(setup, tmp_path / "out", members=members)
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_merge_keeps_it_attached_and_says_why_in_one_line(setup, tmp_path):
    base, _, _ = setup
    out = _fuse(setup, tmp_path / "fused", max_steps=1).output_dir
    stack = load_stack(base, [out], task="causal-lm")
    with pytest.raises(AdapterError, match="cannot be merged into the base weights") as err:
        stack.entries[0].attachment.merge()
    assert "\n" not in str(err.value)
    assert get_method("fusion").mergeable is False

    result = CliRunner().invoke(
        main, ["merge", "--base", str(base), str(out), "--out", str(tmp_path / "merged"), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("merged nothing")
    assert len(lines) == 2 and "still attached" in lines[1] and "(fusion)" in lines[1]
    assert "cannot be merged" in lines[1]
    assert (tmp_path / "merged" / "attached" / "fused" / "members" / "1" / "adapter_model.safetensors").is_file()


def test_batched_runtime_runs_it_per_row(setup, tmp_path):
    """The model server's batched runtime runs a fusion on its rows like ``hub run``, beside the base."""
    from adapters.runtime.batched import BatchedRuntime
    from adapters.runtime.decode_batch import prefill

    base, _, _ = setup
    out = _fuse(setup, tmp_path / "fused", max_steps=3).output_dir
    model, tok = load_base(base)
    runtime = BatchedRuntime(model)
    runtime.add("fused", out)
    ids = tok("say moon", return_tensors="pt")["input_ids"]
    expected = load_stack(base, [out], task="causal-lm")(input_ids=ids).logits[:, -1]
    torch.testing.assert_close(
        prefill(runtime, "fused", ids).logits.reshape(expected.shape), expected, atol=1e-5, rtol=0
    )
    assert not torch.allclose(prefill(runtime, None, ids).logits.reshape(expected.shape), expected, atol=1e-4)


def test_hub_methods_lists_it():
    result = CliRunner().invoke(main, ["methods", "--json"])
    assert result.exit_code == 0, result.output
    row = next(r for r in json.loads(result.output) if r["name"] == "fusion")
    assert row["mergeable"] is False and row["quantizable"] is False
    assert row["objectives"] == ["causal-lm", "seq-cls"]
    assert [o["name"] for o in row["options"]] == ["adapters", "value"]


def test_members_resolve_without_a_pin_but_must_share_one_base(setup):
    _, _, found = setup
    assert len(resolve_members(f"{found['m1']},{found['m2']}")) == 2
    with pytest.raises(BaseMismatchError, match="members must share one base"):
        resolve_members([found["m1"], found["elsewhere"]])
    with pytest.raises(AdapterError, match="is a hub reference; pull it first"):
        resolve_members(["dana/m1@1.0.0"])


def test_members_from_a_hub_then_push_and_pull(setup, hub_server_module, tmp_path, monkeypatch):
    from hub_client import HubClient

    base, data, found = setup
    token = hub_server_module.token("dana", "write")
    for key, value in {
        "HUB_ENDPOINT": hub_server_module.url,
        "HUB_TOKEN": token,
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_CONFIG_DIR": str(tmp_path / "config"),
        "HUB_BASE_INDEX": str(tmp_path / "bases.json"),
    }.items():
        monkeypatch.setenv(key, value)
    with HubClient(hub_server_module.url, token, cache_dir=tmp_path / "push-cache", progress=False) as client:
        client.push(found["m1"], "dana/fuse-m1", "1.0.0")
        client.push(found["m2"], "dana/fuse-m2", "1.2.0")

        out = tmp_path / "fused"
        args = ["train", "--base", str(base), "--method", "fusion", "--data", str(data), "--out", str(out)]
        args += ["--adapters", "dana/fuse-m1@1.0.0,dana/fuse-m2@^1.0", "--max-steps", "3", "--no-progress"]
        trained = CliRunner().invoke(main, args)
        assert trained.exit_code == 0, trained.output
        config = json.loads((out / "adapter_config.json").read_text())
        assert [(m["id"], m["version"], m["ref"]) for m in config["members"]] == [
            ("dana/fuse-m1", "1.0.0", "dana/fuse-m1@1.0.0"),
            ("dana/fuse-m2", "1.2.0", "dana/fuse-m2@^1.0"),
        ]
        assert [m["digest"] for m in config["members"]] == [files_digest(found["m1"]), files_digest(found["m2"])]

        client.push(out, "dana/fused", "1.0.0")
        pulled = client.pull("dana/fused", "1.0.0")
    assert (pulled / "members" / "1" / "adapter_model.safetensors").is_file()
    tok = load_base(base)[1]
    expected = _logits(load_stack(base, [out], task="causal-lm"), tok)
    torch.testing.assert_close(_logits(load_stack(base, [pulled], task="causal-lm"), tok), expected, atol=0, rtol=0)
