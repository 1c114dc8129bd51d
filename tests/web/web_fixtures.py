"""Building blocks for the site's tests: an adapter directory with a real safetensors file and
a model card, and a browser-like HTTP client that signs up and posts forms with their CSRF token."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import numpy as np
from safetensors.numpy import save_file

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
FINGERPRINT = "sha256:" + "ab" * 32


def card(
    body: str,
    *,
    method: str = "lora",
    task: str = "causal-lm",
    tags=("sentiment",),
    fingerprint: str = FINGERPRINT,
    extra: dict | None = None,
) -> str:
    front = {
        "library_name": "peft",
        "base_model": "tiny/base",
        "license": "mit",
        "tags": list(tags),
        "adapter_hub": {
            "kind": "adapter",
            "method": method,
            "task": task,
            "method_options": {"r": 4},
            "base": {"id": "tiny/base", "revision": "1.0.0", "fingerprint": fingerprint},
            "metrics": {"exact_match": 0.92},
            **(extra or {}),
        },
    }
    return "---\n" + json.dumps(front) + "\n---\n" + body


def adapter_dir(root: Path, readme: str, seed: int = 0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    save_file(
        {"base_model.model.layers.0.q_proj.lora_A.weight": rng.standard_normal((4, 32)).astype(np.float32)},
        str(root / "adapter_model.safetensors"),
    )
    (root / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 8}))
    (root / "README.md").write_text(readme)
    return root


class Browser:
    """An httpx client with a cookie jar that fills in the CSRF token of the page it last read."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
        self.csrf: str | None = None

    def get(self, path: str, **kw) -> httpx.Response:
        r = self.http.get(path, **kw)
        m = CSRF_RE.search(r.text) if r.headers.get("content-type", "").startswith("text/html") else None
        if m:
            self.csrf = m.group(1)
        return r

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf
        return self.http.post(path, data=form)

    def sign_up(self, name: str, password: str = "correct horse battery") -> Browser:
        self.get("/signup")
        r = self.post("/signup", {"name": name, "password": password})
        assert r.status_code == 303, r.text[-500:]
        self.get("/settings")
        return self

    def new_token(self, scope: str = "write") -> str:
        r = self.post("/settings/tokens", {"scope": scope})
        assert r.status_code == 201, r.text[-500:]
        return re.search(r'<code id="new-token">([^<]+)</code>', r.text).group(1)

    def close(self) -> None:
        self.http.close()
