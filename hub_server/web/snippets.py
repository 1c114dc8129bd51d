"""'How to use' snippets for one version of a repo, filled in with its id, version, base
and this hub's URL: the CLI, the Python client, PEFT through the HF-compatible API, and serving it
to applications (``hub serve-model`` answering the ``openai`` client).

The site offers these with a Copy button, so whatever a card says must never become code: the
base is used only when it passes the shared repo-id rule (``hub_rules.is_repo_id``, else a
``BASE_DIR`` placeholder), and every value is quoted for where it lands: ``shlex.quote`` in
shell, ``repr`` in Python."""

from __future__ import annotations

import shlex

from hub_rules import is_repo_id

BASE_PLACEHOLDER = "BASE_DIR"
SERVE_PORT = 8080


def snippet_base(metadata: dict) -> str:
    """The card's base id when it is a valid ``namespace/name``, else the placeholder."""
    base = metadata.get("base_id")
    return base if is_repo_id(base) else BASE_PLACEHOLDER


def snippets(endpoint: str, repo_id: str, version: str, metadata: dict, kind: str) -> list[dict[str, str]]:
    """``[{"id", "title", "code"}]``, in the order a newcomer needs them."""
    q = shlex.quote
    ref = f"{repo_id}@{version}"
    base = snippet_base(metadata)
    out = [{"id": "pull", "title": "Download (verified, cached)", "code": f"hub pull {q(ref)}"}]
    if kind == "adapter":
        out += [
            {
                "id": "run",
                "title": "Generate with it on the pinned base",
                "code": f"hub run --base {q(base)} {q(ref)} --prompt Hello",
            },
            {
                "id": "merge",
                "title": "Merge into the base weights",
                "code": f"hub merge --base {q(base)} {q(ref)} --out merged/",
            },
        ]
    out.append(
        {
            "id": "python",
            "title": "Python",
            "code": (
                "from hub_client import HubClient\n\n"
                f"client = HubClient(endpoint={endpoint!r})\n"
                f"path = client.pull({repo_id!r}, {version!r})"
            ),
        }
    )
    if kind == "adapter":
        out.append(
            {
                "id": "peft",
                "title": "PEFT / huggingface_hub (HF-compatible API)",
                "code": (
                    f"export HF_ENDPOINT={q(endpoint)}\n"
                    "python - <<'PY'\n"
                    "from transformers import AutoModelForCausalLM\n"
                    "from peft import PeftModel\n\n"
                    f"model = AutoModelForCausalLM.from_pretrained({base!r})\n"
                    f"model = PeftModel.from_pretrained(model, {repo_id!r}, revision={version!r})\n"
                    "PY"
                ),
            }
        )
        out.append(serve_snippet(endpoint, ref, base))
    elif kind == "dataset":
        out.append(
            {
                "id": "datasets",
                "title": "datasets (HF-compatible API)",
                "code": (
                    f"export HF_ENDPOINT={q(endpoint)}\n"
                    "python - <<'PY'\n"
                    "import datasets\n\n"
                    f"print(datasets.load_dataset({repo_id!r}, revision={version!r}))\n"
                    "PY"
                ),
            }
        )
    else:
        python = (
            "from huggingface_hub import snapshot_download; "
            f"print(snapshot_download({repo_id!r}, revision={version!r}))"
        )
        out.append(
            {
                "id": "hf",
                "title": "huggingface_hub (HF-compatible API)",
                "code": (f"export HF_ENDPOINT={q(endpoint)}\npython -c {q(python)}"),
            }
        )
    return out


def serve_snippet(endpoint: str, ref: str, base: str) -> dict[str, str]:
    """A model server for the pinned base, then one ``openai`` completion on this adapter version: the
    server pulls it from this hub on first use. The shell waits for ``/health`` before the call."""
    q = shlex.quote
    url = f"http://127.0.0.1:{SERVE_PORT}"
    return {
        "id": "serve",
        "title": "Serve it (OpenAI-compatible, many adapters on one base)",
        "code": (
            f"export HUB_ENDPOINT={q(endpoint)}\n"
            f"hub serve-model --base {q(base)} --port {SERVE_PORT} &\n"
            f"until curl -sf {url}/health >/dev/null; do sleep 1; done\n"
            "python - <<'PY'\n"
            "from openai import OpenAI\n\n"
            f"client = OpenAI(base_url={url + '/v1'!r}, api_key='unused')\n"
            f"r = client.completions.create(model={ref!r}, prompt='Hello', max_tokens=32, temperature=0)\n"
            "print(r.choices[0].text)\n"
            "PY"
        ),
    }
