"""Every JSON request body, typed: the native routes take these pydantic models as parameters (so a
bad body is a one-line 422 before any work and the OpenAPI schema describes every input); the HF
routes, which answer in HF's error shape, read the body themselves and check it with ``hf_body``,
publishing the same schema through ``hf_schema``. Meaning (names, versions, paths, digests) is still
decided by the services and ``hub_rules``; these fix only the shape."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from ..errors import Invalid

Model = TypeVar("Model", bound=BaseModel)
MAX_ROW_ID = 2**63 - 1  # the largest id a database row can have: larger numbers in a path or query are a 422


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class NewRepo(_Body):
    namespace: str = Field(max_length=200)
    name: str = Field(max_length=200)
    kind: str = Field("adapter", max_length=20, description="adapter or base")
    private: StrictBool | None = Field(None, description="default: public, or the org's private-by-default")


class RepoSettings(_Body):
    private: StrictBool


class NewToken(_Body):
    scope: str = Field("read", max_length=20, description="read, write or admin (never wider than the caller's)")
    name: str = Field("", max_length=100)
    expires_in: str | StrictInt | None = Field(None, description="a duration such as 30d, or seconds")


class NewKey(_Body):
    public_key: str = Field(max_length=20_000, description="PEM EC public key")
    name: str = Field("", max_length=100)
    proof: str | None = Field(
        None, max_length=1024, description="base64 signature by the key over the registration statement"
    )


class QuotaSetting(_Body):
    max_bytes: StrictInt | None = Field(description="bytes; null returns to the default")


class ManifestFile(_Body):
    path: str = Field(max_length=4096)
    size: StrictInt = Field(ge=0)
    digest: str = Field(max_length=80, description="sha256:<64 lowercase hex>")


class NewVersion(_Body):
    version: str = Field(max_length=200, description="semantic version, e.g. 1.0.0")
    files: list[ManifestFile] = Field(min_length=1)
    message: str = ""


class Yank(_Body):
    reason: str = Field("", max_length=10_000)


# --- HF-compatible bodies ----------------------------------------------------------------------


class HfNewRepo(_Body):
    name: str = Field(max_length=200)
    organization: str | None = Field(None, max_length=200)
    type: str | None = Field(None, max_length=20)
    private: StrictBool | None = None
    visibility: str | None = Field(None, max_length=20)


class HfDeleteRepo(_Body):
    name: str = Field(max_length=200)
    organization: str | None = Field(None, max_length=200)
    type: str | None = Field(None, max_length=20)


class HfMoveRepo(_Body):
    fromRepo: str = Field(max_length=201)
    toRepo: str = Field(max_length=201)
    type: str | None = Field(None, max_length=20)


class HfSettings(_Body):
    private: StrictBool | None = None
    visibility: str | None = Field(None, max_length=20)
    gated: Any = None


class HfPreuploadFile(_Body):
    path: str = Field(max_length=4096)
    size: StrictInt | None = None
    sample: str | None = None


class HfPreupload(_Body):
    files: list[HfPreuploadFile] = Field(default_factory=list)


class HfValidateYaml(_Body):
    content: str = ""
    repoType: str | None = None


def hf_body(model: type[Model], raw: dict) -> Model:
    """``raw`` (a JSON object) checked against ``model``; one-line ``Invalid`` naming the first problem."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise Invalid(f"{where}: {first.get('msg', 'invalid value')}") from None


def _inline(schema: dict) -> dict:
    """The model's JSON schema with its ``$defs`` inlined (OpenAPI resolves refs from the document root)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.rsplit("/", 1)[1]]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


def hf_schema(model: type[BaseModel]) -> dict:
    """``openapi_extra`` documenting ``model`` as the JSON body of an HF route."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(model.model_json_schema())}},
        }
    }


class EvalClaim(_Body):
    worker: str = Field("", max_length=100, description="the worker's name (hub worker --name)")
    evaluator: dict[str, Any] = Field(default_factory=dict, description="evaluator versions and hardware")


class EvalHeartbeat(_Body):
    worker: str = Field("", max_length=100)


class EvalResult(_Body):
    worker: str = Field("", max_length=100)
    status: str = Field(max_length=10, description="done or failed")
    value: float | None = None
    n: StrictInt | None = Field(None, ge=0, description="rows evaluated")
    reason: str = Field("", max_length=4000, description="why it failed (one line)")


class Reevaluate(_Body):
    version: str = Field(max_length=200)


class DeliveryClaim(_Body):
    worker: str = Field("", max_length=100, description="the worker's name (hub worker --name)")


class DeliveryResult(_Body):
    worker: str = Field("", max_length=100)
    attempt: StrictInt = Field(ge=1, le=1000, description="the attempt number the claim answered")
    status_code: StrictInt | None = Field(None, description="the receiver's HTTP status; null: no answer")
    error: str = Field("", max_length=4000, description="why the attempt failed (one line)")
    duration_ms: StrictInt | None = Field(None, ge=0, le=10**9)


class WatchedItem(_Body):
    type: str = Field(max_length=20, description="user, org, model or dataset")
    name: str = Field(max_length=250, description="a user or org name, or a repo id NAMESPACE/NAME")


class WebhookBody(_Body):
    """``HfApi.create_webhook`` / ``update_webhook``: on update, what is left out (and an empty
    ``watched``, which the client always sends) stays as it was."""

    url: str | None = Field(None, max_length=2000)
    watched: list[WatchedItem] | None = Field(None, max_length=100)
    domains: list[str] | None = Field(None, max_length=10, description="repo, discussion")
    secret: str | None = Field(None, max_length=200)
    jobSourceId: str | None = Field(None, max_length=100, description="refused: this hub runs no Jobs")
    secrets: dict[str, str] | None = Field(None, description="refused: this hub runs no Jobs")
