"""Dataset repos through the unmodified ``huggingface_hub`` and ``datasets`` libraries: create,
``upload_folder(repo_type="dataset")``, ``load_dataset("ns/name")`` of JSONL and CSV, the two
repo types kept apart, and the data-file rule (code, bad JSONL lines, oversized rows) refused
with one line and nothing stored."""

from __future__ import annotations

import json

import httpx

from tests.hf.hf_harness import client

ROWS = [{"prompt": f"question {i}", "answer": f"answer <{i}>"} for i in range(30)]

UPLOAD = """
from pathlib import Path
from huggingface_hub import HfApi
api = HfApi()
api.create_repo({repo!r}, repo_type="dataset")
folder = Path("data-folder")
folder.mkdir(exist_ok=True)
for name, text in {files!r}.items():
    (folder / name).write_text(text)
info = api.upload_folder(folder_path=folder, repo_id={repo!r}, repo_type="dataset")
print(json.dumps({{"oid": info.oid}}))
"""

LOAD = """
import datasets
rows = datasets.load_dataset({repo!r}, split="train")
print(json.dumps({{"rows": rows.to_list(), "columns": rows.column_names}}))
"""

REFUSED = """
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
api = HfApi()
try:
    api.upload_file(path_or_fileobj={content!r}.encode(), path_in_repo={path!r}, repo_id={repo!r},
                    repo_type="dataset")
    print(json.dumps({{"outcome": "accepted"}}))
except HfHubHTTPError as e:
    print(json.dumps({{"outcome": [e.response.status_code, e.response.json().get("error")]}}))
"""


def jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def load(run_hf, repo: str, token: str) -> dict:
    out = run_hf(LOAD.format(repo=repo), token=token)
    return out


def test_load_dataset_reads_a_jsonl_dataset_pushed_with_upload_folder(hub, run_hf):
    token = hub.token("dana")
    files = {"train.jsonl": jsonl(ROWS), "README.md": "# Eval set\n\nThirty questions.\n"}
    pushed = run_hf(UPLOAD.format(repo="dana/evals", files=files), token=token)
    out = load(run_hf, "dana/evals", token)
    assert out["rows"] == ROWS
    assert out["columns"] == ["prompt", "answer"]
    info = httpx.get(f"{hub.url}/api/datasets/dana/evals", headers={"Authorization": f"Bearer {token}"}).json()
    assert info["sha"] == pushed["oid"]
    assert sorted(s["rfilename"] for s in info["siblings"]) == [".gitattributes", "README.md", "train.jsonl"]


def test_load_dataset_reads_a_csv_dataset(hub, run_hf):
    token = hub.token("dana")
    csv = "text,label\n" + "".join(f"sentence {i},{i % 2}\n" for i in range(12))
    run_hf(UPLOAD.format(repo="dana/labels", files={"data.csv": csv}), token=token)
    out = load(run_hf, "dana/labels", token)
    assert out["columns"] == ["text", "label"]
    assert out["rows"][:2] == [{"text": "sentence 0", "label": 0}, {"text": "sentence 1", "label": 1}]
    assert len(out["rows"]) == 12


def test_models_and_datasets_are_listed_and_addressed_apart(hub, run_hf):
    token = hub.token("ella")
    out = run_hf(
        """
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RepositoryNotFoundError
        api = HfApi()
        api.create_repo("ella/notes", repo_type="dataset")
        api.upload_file(path_or_fileobj=b'{"a": 1}\\n', path_in_repo="a.jsonl", repo_id="ella/notes",
                        repo_type="dataset")
        api.upload_file(path_or_fileobj=b"\\x89PNG not checked", path_in_repo="img/cat.png", repo_id="ella/notes",
                        repo_type="dataset")  # opaque data (images, audio, shards) is kept as bytes
        api.create_repo("ella/model")
        try:
            api.model_info("ella/notes")
            as_model = "found"
        except RepositoryNotFoundError:
            as_model = "not found"
        print(json.dumps({
            "datasets": [d.id for d in api.list_datasets(author="ella")],
            "models": [m.id for m in api.list_models(author="ella")],
            "as_model": as_model,
            "exists": [api.repo_exists("ella/notes", repo_type="dataset"), api.repo_exists("ella/model", repo_type="dataset")],
            "file": api.file_exists("ella/notes", "a.jsonl", repo_type="dataset"),
            "tree": [f.path for f in api.list_repo_tree("ella/notes", repo_type="dataset")],
        }))
    """,
        token=token,
    )
    assert out["datasets"] == ["ella/notes"]
    assert out["models"] == ["ella/model"]
    assert out["as_model"] == "not found"
    assert out["exists"] == [True, False]
    assert out["file"] is True and out["tree"] == [".gitattributes", "a.jsonl", "img"]
    raw = httpx.get(f"{hub.url}/datasets/ella/notes/resolve/main/a.jsonl", headers={"Authorization": f"Bearer {token}"})
    assert raw.status_code == 200 and raw.content == b'{"a": 1}\n'
    assert httpx.get(f"{hub.url}/ella/notes/resolve/main/a.jsonl").status_code == 404  # not a model
    deleted = run_hf(
        """
        from huggingface_hub import HfApi
        HfApi().delete_repo("ella/notes", repo_type="dataset")
        print(json.dumps({"left": [d.id for d in HfApi().list_datasets(author="ella")]}))
    """,
        token=token,
    )
    assert deleted["left"] == []


def _refused(hub, run_hf, repo: str, path: str, content: str) -> list:
    token = hub.token("fred")
    run_hf(
        f"""
        from huggingface_hub import HfApi
        HfApi().create_repo({repo!r}, repo_type="dataset", exist_ok=True)
        print("{{}}")
    """,
        token=token,
    )
    out = run_hf(REFUSED.format(repo=repo, path=path, content=content), token=token)
    stored = client(hub, token).versions(repo)
    # only the initial commit (0.0.0, .gitattributes) that create_repo makes, as on the HF Hub
    assert [v["version"] for v in stored] == ["0.0.0"], f"a refused file left versions: {stored}"
    return out["outcome"]


def test_code_file_is_refused_with_one_line_and_nothing_stored(hub, run_hf):
    outcome = _refused(hub, run_hf, "fred/code", "loader.py", "import os\n")
    assert outcome[0] == 400
    assert outcome[1] == "loader.py: a dataset holds data, not code (.py files are refused)"


def test_bad_jsonl_line_is_refused_naming_the_file_and_line(hub, run_hf):
    outcome = _refused(hub, run_hf, "fred/broken", "rows.jsonl", '{"a": 1}\n{"a": 2}\n{"a": \n')
    assert outcome[0] == 400
    assert outcome[1].startswith("rows.jsonl line 3: not valid JSON (")
    assert "\n" not in outcome[1]


def test_oversized_row_is_refused(hub, run_hf):
    row = json.dumps({"text": "x" * (1024 * 1024 + 10)})
    outcome = _refused(hub, run_hf, "fred/huge", "big.jsonl", '{"a": 1}\n' + row + "\n")
    assert outcome == [400, "big.jsonl line 2: a row over 1048576 bytes"]


def test_fake_parquet_and_binary_csv_are_refused(hub, run_hf):
    assert _refused(hub, run_hf, "fred/fake", "t.parquet", "not parquet at all") == [
        400,
        "t.parquet: not a Parquet file (it must start and end with PAR1)",
    ]
    assert _refused(hub, run_hf, "fred/nul", "t.csv", "a,b\n1,\x00\n") == [400, "t.csv: a NUL byte in a text file"]


def test_spaces_are_refused_with_one_line(hub):
    token = hub.token("fred")
    answer = httpx.post(
        f"{hub.url}/api/repos/create",
        json={"name": "app", "type": "space"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "only model and dataset repos are hosted here"
    assert httpx.get(f"{hub.url}/api/models/fred/app").status_code == 404
