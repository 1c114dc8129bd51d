"""'How to use' snippets for one version of a repo, filled in with its id, version, base
and this hub's URL: the CLI, the Python client, and PEFT through the HF-compatible API."""

from __future__ import annotations


def snippets(endpoint: str, repo_id: str, version: str, metadata: dict, kind: str) -> list[dict[str, str]]:
    """``[{"id", "title", "code"}]``, in the order a newcomer needs them."""
    ref = f"{repo_id}@{version}"
    base = metadata.get("base_id") or "BASE_DIR"
    out = [{"id": "pull", "title": "Download (verified, cached)", "code": f"hub pull {ref}"}]
    if kind == "adapter":
        out += [
            {"id": "run", "title": "Generate with it on the pinned base",
             "code": f'hub run --base {base} {ref} --prompt "Hello"'},
            {"id": "merge", "title": "Merge into the base weights",
             "code": f"hub merge --base {base} {ref} --out merged/"},
        ]
    out.append({"id": "python", "title": "Python", "code": (
        "from hub_client import HubClient\n\n"
        f'client = HubClient(endpoint="{endpoint}")\n'
        f'path = client.pull("{repo_id}", "{version}")')})
    if kind == "adapter":
        out.append({"id": "peft", "title": "PEFT / huggingface_hub (HF-compatible API)", "code": (
            f"export HF_ENDPOINT={endpoint}\n"
            "python - <<'PY'\n"
            "from transformers import AutoModelForCausalLM\n"
            "from peft import PeftModel\n\n"
            f'model = AutoModelForCausalLM.from_pretrained("{base}")\n'
            f'model = PeftModel.from_pretrained(model, "{repo_id}", revision="{version}")\n'
            "PY")})
    else:
        out.append({"id": "hf", "title": "huggingface_hub (HF-compatible API)", "code": (
            f"export HF_ENDPOINT={endpoint}\n"
            f'python -c "from huggingface_hub import snapshot_download; '
            f"print(snapshot_download('{repo_id}', revision='{version}'))\"")})
    return out
