"""'How to use' snippets for one version of a repo, all built here from one description of it
(``SnippetTarget``): its id and version, this hub's URL, the base it is pinned to, and what the
adapter can do (``hub_rules.adapter_capabilities``: mergeable, loadable by PEFT, its task). A snippet
is offered only when it runs as copied: ``hub merge`` only for a mergeable adapter, PEFT's loader only
for a type PEFT knows (a native bottleneck adapter gets the hub's own Python API instead), and no
``--base`` when the pin alone finds the base on this hub. An adapter also gets "Serve it" (``hub
serve-model`` answering the ``openai`` client); a dataset gets ``datasets.load_dataset``.

The site offers these with a Copy button, so whatever a card says must never become code: ids come
from the database (already validated), a card's base is used only when it passes the shared repo-id
rule (``hub_rules.is_repo_id``, else a ``BASE_DIR`` placeholder), and every value is quoted for where
it lands: ``shlex.quote`` in shell, ``repr`` in Python."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from hub_rules import is_repo_id
from hub_rules.adapter_capabilities import Capabilities

BASE_PLACEHOLDER = "BASE_DIR"
PROMPT = "Hello"
SERVE_PORT = 8080
MODEL_CLASS = {"causal-lm": "AutoModelForCausalLM", "seq-cls": "AutoModelForSequenceClassification"}


@dataclass(frozen=True)
class SnippetTarget:
    """One version of a repo as the snippets need it. ``hosted_base``: ``(repo id, version)`` of the base
    repo on this hub whose weights the adapter is pinned to, when there is one."""

    endpoint: str
    repo_id: str
    version: str
    kind: str
    metadata: dict
    capabilities: Capabilities
    hosted_base: tuple[str, str] | None = None


def snippet_base(metadata: dict) -> str:
    """The card's base id when it is a valid ``namespace/name``, else the placeholder."""
    base = metadata.get("base_id")
    return base if is_repo_id(base) else BASE_PLACEHOLDER


def _base_flag(target: SnippetTarget) -> str:
    """`` --base X`` only when the pin cannot find the base by itself (it is not on this hub): then the
    card's base id (fetched from Hugging Face, checked against the pin) or the placeholder."""
    if target.hosted_base is not None:
        return ""
    return f" --base {shlex.quote(snippet_base(target.metadata))}"


def _cli(target: SnippetTarget) -> list[dict[str, str]]:
    q = shlex.quote
    ref = q(f"{target.repo_id}@{target.version}")
    out = [{"id": "pull", "title": "Download (verified, cached)", "code": f"hub pull {ref}"}]
    if target.kind != "adapter":
        return out
    verb = "Classify with it" if target.capabilities.task == "seq-cls" else "Generate with it"
    out.append(
        {
            "id": "run",
            "title": f"{verb} on the pinned base",
            "code": f"hub run{_base_flag(target)} {ref} --prompt {PROMPT} --max-new-tokens 8",
        }
    )
    if target.capabilities.mergeable:
        out.append(
            {
                "id": "merge",
                "title": "Merge into the base weights",
                "code": f"hub merge{_base_flag(target)} {ref} --out merged",
            }
        )
    return out


def _python(target: SnippetTarget) -> dict[str, str]:
    lines = ["from hub_client import HubClient"]
    if target.kind == "adapter":
        lines += ["from hub_client.bases import hub_resolver", "from adapters import load_stack"]
    lines += [
        "",
        f"endpoint = {target.endpoint!r}",
        f"path = HubClient(endpoint=endpoint).pull({target.repo_id!r}, {target.version!r})",
    ]
    if target.kind != "adapter":
        return {"id": "python", "title": "Python", "code": "\n".join([*lines, "print(path)"])}
    base = None if target.hosted_base is not None else snippet_base(target.metadata)
    lines.append(f"stack = load_stack({base!r}, [path], resolver=hub_resolver(endpoint))")
    if target.capabilities.task == "seq-cls":
        lines.append(f"print(stack.classify({PROMPT!r})[0][0])")
    else:
        lines.append(f"print(stack.generate({PROMPT!r}, max_new_tokens=8))")
    return {"id": "python", "title": "Python (stack it on the pinned base)", "code": "\n".join(lines)}


def _hf(target: SnippetTarget) -> dict[str, str] | None:
    q = shlex.quote
    head = f"export HF_ENDPOINT={q(target.endpoint)}\n"
    if target.kind != "adapter":
        python = (
            "from huggingface_hub import snapshot_download; "
            f"print(snapshot_download({target.repo_id!r}, revision={target.version!r}))"
        )
        return {"id": "hf", "title": "huggingface_hub (HF-compatible API)", "code": f"{head}python -c {q(python)}"}
    if not target.capabilities.peft:
        return None
    model_class = MODEL_CLASS[target.capabilities.task]
    if target.hosted_base is not None:
        base_id, base_version = target.hosted_base
        load_base = f"base = {model_class}.from_pretrained({base_id!r}, revision={base_version!r})"
    else:  # HF_ENDPOINT points here, so the base comes from the reader's own copy
        load_base = f"base = {model_class}.from_pretrained({BASE_PLACEHOLDER!r})  # your copy of the base"
    return {
        "id": "peft",
        "title": "PEFT (HF-compatible API)",
        "code": (
            head + "python - <<'PY'\n"
            f"from transformers import {model_class}\n"
            "from peft import PeftModel\n\n"
            f"{load_base}\n"
            f"model = PeftModel.from_pretrained(base, {target.repo_id!r}, revision={target.version!r})\n"
            "print(model.active_peft_config.peft_type.value)\n"
            "PY"
        ),
    }


def snippets(target: SnippetTarget) -> list[dict[str, str]]:
    """``[{"id", "title", "code"}]``, in the order a newcomer needs them."""
    out = _cli(target)
    out.append(_python(target))
    hf = _hf(target)
    if hf is not None:
        out.append(hf)
    if target.kind == "adapter" and target.capabilities.task == "causal-lm":  # the model server generates text
        out.append(_serve(target))
    elif target.kind == "dataset":
        out.append(_datasets(target))
    return out


def _serve(target: SnippetTarget) -> dict[str, str]:
    """A model server for the pinned base, then one ``openai`` completion on this adapter version: the
    server pulls it from this hub on first use. The shell waits for ``/health`` before the call. The base
    is the hub's own base repo when the adapter is pinned to one (``hub://ns/name@version``)."""
    q = shlex.quote
    if target.hosted_base is not None:
        base = f"hub://{target.hosted_base[0]}@{target.hosted_base[1]}"
    else:
        base = snippet_base(target.metadata)
    url = f"http://127.0.0.1:{SERVE_PORT}"
    ref = f"{target.repo_id}@{target.version}"
    return {
        "id": "serve",
        "title": "Serve it (OpenAI-compatible, many adapters on one base)",
        "code": (
            f"export HUB_ENDPOINT={q(target.endpoint)}\n"
            f"hub serve-model --base {q(base)} --port {SERVE_PORT} &\n"
            f"until curl -sf {url}/health >/dev/null; do sleep 1; done\n"
            "python - <<'PY'\n"
            "from openai import OpenAI\n\n"
            f"client = OpenAI(base_url={url + '/v1'!r}, api_key='unused')\n"
            f"r = client.completions.create(model={ref!r}, prompt={PROMPT!r}, max_tokens=32, temperature=0)\n"
            "print(r.choices[0].text)\n"
            "PY"
        ),
    }


def _datasets(target: SnippetTarget) -> dict[str, str]:
    q = shlex.quote
    return {
        "id": "datasets",
        "title": "datasets (HF-compatible API)",
        "code": (
            f"export HF_ENDPOINT={q(target.endpoint)}\n"
            "python - <<'PY'\n"
            "import datasets\n\n"
            f"print(datasets.load_dataset({target.repo_id!r}, revision={target.version!r}))\n"
            "PY"
        ),
    }
