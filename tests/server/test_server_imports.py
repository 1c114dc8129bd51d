"""The hub server runs without torch: no module of it names torch, and a whole app, built and
serving a request, has not loaded it."""

from __future__ import annotations

import subprocess
import sys

from tests.support.import_scan import offenders


def test_no_server_module_imports_torch_or_the_ml_core():
    assert offenders("hub_server", {"torch", "adapters", "transformers", "peft"}) == {}


def test_shared_rules_import_nothing_of_ours():
    assert offenders("hub_rules", {"adapters", "hub_client", "hub_server", "torch"}) == {}


def test_a_built_app_answering_a_request_has_not_loaded_torch(tmp_path):
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from hub_server.app import create_app\n"
        "from hub_server.settings import Settings\n"
        f"app = create_app(Settings(data={str(tmp_path / 'data')!r}))\n"
        "with TestClient(app) as c:\n"
        "    assert c.get('/healthz').status_code == 200\n"
        "    assert c.get('/api/v1/search').status_code == 200\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'transformers', 'peft', 'adapters'}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
