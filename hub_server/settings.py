"""Server configuration from the environment (``HUB_*``), built only when asked for,
so importing the package never reads the environment or touches the disk."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every ``HUB_*`` variable the server reads; each field's docstring is its line in the README's
    configuration table (``tools/settings_table.py`` writes it)."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore", use_attribute_docstrings=True)

    data: Path = Path("hub-data")
    """server data dir (SQLite database + blobs + upload parts) when the database or storage is not given by URL"""
    database_url: str | None = None
    """e.g. `postgresql://user@host/db`, the one database every host shares; unset: a SQLite file in the data dir"""
    storage_url: str | None = None
    """`s3://bucket/prefix?endpoint=https://...` for S3-compatible storage (credentials the usual AWS way:
    `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, instance roles); unset: files in the data dir"""
    max_file_bytes: int = 20 * 1024**3
    """one blob upload (chunks of `PATCH/PUT /api/v1/uploads/…`)"""
    max_files_per_version: int = 10_000
    """files in one version's manifest, native publish and HF commit alike (413 above it)"""
    max_header_bytes: int = 8 * 1024 * 1024
    """a safetensors file's JSON header, checked at publish (422 above it; real ones are KiB to a few MiB)"""
    upload_ttl_seconds: int = 24 * 3600
    """upload sessions untouched this long are swept with their parts and any abandoned S3 multipart upload; so is
    the data of a Xet xorb whose chunks are in no uploaded file"""
    hf_max_commit_bytes: int = 64 * 1024 * 1024
    """one HF NDJSON commit (its files travel inline); use `hub push` for bigger files"""
    hf_lfs_threshold_bytes: int = 64 * 1024 * 1024
    """HF uploads of files larger than this skip the inline commit (preupload answers "lfs"): `huggingface_hub`
    sends them through Xet when `hf_xet` is installed (its default), else through the git-LFS batch API"""
    hf_lfs_multipart_bytes: int = 5 * 1024 * 1024 * 1024
    """an LFS object larger than this is sent in parts (HF's multipart transfer: `chunk_size` plus one
    URL per part and a completion call); 5 GiB, the largest single PUT S3 takes"""
    hf_lfs_chunk_bytes: int = 100 * 1024 * 1024
    """the part size of a multipart LFS upload (the last part may be shorter)"""
    open_signup: bool = True
    """`0`: only an admin creates accounts (`hub admin create-token`); the site's sign-up page is closed"""
    session_days: int = 30
    """a web sign-in lasts this long unless signed out or revoked"""
    download_flush_seconds: float = 10.0
    """how often buffered download counts are written (one transaction each time)"""
    access_log: str = "stderr"
    """one line per request: `stderr`, `off`, or a file path (`hub serve` keeps it off unless `--access-log`)"""
    access_log_format: str = "json"
    """`json`: `{"request_id", "method", "path", "status", "ms", "user"}` per line; `text`: one readable line with the client address"""
    download_count_window_seconds: int = 3600
    """one caller's pull reports of one version count once per window (keyed by user, or by address when anonymous); 0 counts every report"""
    # Limits against strangers (hub_server/limits): bodies, JSON depth, request rates, quotas.
    max_body_bytes: int = 1024 * 1024
    """any request body except blob chunks and HF commits (413)"""
    max_json_depth: int = 32
    """nesting of a JSON body, measured before parsing (422)"""
    rate_limits: bool = True
    """`0` turns the rate buckets off (benchmarks, fuzzing)"""
    rate_read: str = "1200/minute"
    """GET/HEAD per token, or per client address when anonymous (429 + `Retry-After`); `limits` notation"""
    rate_write: str = "600/minute"
    """other methods, same keys"""
    rate_auth_failures: str = "30/minute"
    """401s per client address; past it, requests carrying an invalid token get 429 (a valid token from that address still works: NAT, proxies)"""
    redis_url: str | None = None
    """e.g. `redis://127.0.0.1:6379/0`: every worker and host shares the rate buckets; unset: in process"""
    rate_key_prefix: str = "adapter-hub"
    """keeps several hubs on one Redis apart"""
    max_open_uploads: int = 32
    """open upload sessions per user (429)"""
    max_upload_bytes_per_day: int = 100 * 1024**3
    """bytes a user may upload per day, chunks and HF commits (429 + `Retry-After`)"""
    namespace_quota_bytes: int | None = None
    """default storage per namespace: distinct blobs of its live versions (413 `quota_exceeded`); admins set
    others; unset: unlimited"""
    storage_redirect: bool = False
    """`1`: downloads answer `302` to a presigned storage URL (native and HF API) when the store has them, so
    the bytes never pass through a hub worker"""
    storage_redirect_seconds: int = 300
    """lifetime of those URLs; the hub checks read access before it hands one out"""
    public_url: str | None = None
    """the address clients use (the load balancer's, e.g. `https://hub.example.org`), written into every
    absolute URL the hub answers with; needed when the balancer rewrites `Host`; unset: the request's own"""

    # Limits against resource exhaustion (README "Safety"); each is HUB_<NAME> in the environment.
    min_body_rate: int = 16 * 1024
    """Bytes per second an upload body must average once ``body_grace_seconds`` have passed; slower → 408."""
    body_grace_seconds: float = 10.0
    """Seconds of network waiting an upload body gets before ``min_body_rate`` applies."""
    upload_segment_bytes: int = 16 * 1024 * 1024
    """An upload body is read on the event loop in segments of at most this size (1 MiB in memory, the
    rest in a temporary file) and each complete segment is stored by a worker thread."""
    max_concurrent_uploads: int = 4
    """Upload bodies (PATCH/PUT on an upload session) one account may send at once to one host; more → 429."""
    search_max_filters: int = 10
    """Tags/filters one search may require (``tag``, HF ``filter``); more → 400."""
    search_max_query_chars: int = 200
    """Characters of free text one search may carry (``q``, HF ``search``); longer → 400."""
    query_timeout_seconds: float = 10.0
    """A read query running longer is cancelled (PostgreSQL ``statement_timeout``, a SQLite progress
    handler) and answered 503; 0 turns the bound off."""
    signin_failures_per_account: str = "10/15 minutes"
    """Failed web sign-ins one account may receive (from anywhere) before sign-in is refused with 429."""
    signin_failures_per_address: str = "30/15 minutes"
    """Failed web sign-ins one client address may make before its sign-ins are refused with 429."""
    max_concurrent_password_checks: int = 2
    """Password hashes (argon2, 64 MiB each) computed at once per host; the excess waits at most
    ``password_check_wait_seconds``, then gets 503 with Retry-After."""
    password_check_wait_seconds: float = 2.0
    """How long a sign-in waits for a free password-check slot."""
    hf_max_commit_bytes_in_flight: int = 256 * 1024 * 1024
    """Bytes of HF NDJSON commits being read at once per host (declared Content-Length, or the limit
    for a chunked body); a commit that does not fit waits briefly, then gets 503 with Retry-After."""
    gc_interval_seconds: float = 3600.0
    """How often each host collects garbage by itself (unreferenced blobs idle past ``gc_grace_seconds``,
    expired upload sessions); 0 turns the schedule off (``hub admin gc`` still runs it by hand)."""
    gc_grace_seconds: float = 3600.0
    """How long an unreferenced blob is kept before the scheduled gc removes it."""

    queue_url: str | None = None
    """broker of the job queue (evaluations, webhook deliveries): `redis://host:6379/0` or `amqp://user@host//`; unset: an
    embedded queue in a SQLite file of the data dir (`queue.sqlite`), for one machine"""
    eval_lease_seconds: float = 60.0
    """a running evaluation whose worker has not been heard from for this long is queued again (kill -9)"""
    eval_max_attempts: int = 3
    """attempts an evaluation gets (failures, lost workers, time-outs) before it is `failed` with its reason"""
    eval_resend_seconds: float = 120.0
    """a queued evaluation sent to the queue this long ago and still unclaimed is sent again (a message the
    broker lost); the wait doubles with each resend, and a worker skips a job already taken"""
    eval_time_limit_seconds: float = 3600.0
    """an evaluation running longer than this counts as a failed attempt ("timed out")"""
    eval_signing_key: Path | None = None
    """PEM file of the Ed25519 key that signs verified results (`verifyToken`), made there if missing (every
    host then needs the same file); unset: one key kept in the database, made on first use and shared by
    every host of the deployment"""
    queue_visibility_seconds: int = 7200
    """Redis/SQS only: an unacknowledged job is handed out again after this long (the hub's lease usually acts first)"""

    webhook_allow_private: bool = False
    """`1`: webhooks may target loopback, private and link-local addresses (a receiver on the hub's own
    network, tests); otherwise such URLs are refused when a webhook is saved and again at each delivery"""
    webhook_max_per_user: int = 25
    """webhooks one account may have (403 past it)"""
    webhook_max_attempts: int = 8
    """tries of one delivery (the first and its retries) before it counts as failed"""
    webhook_backoff_seconds: float = 5.0
    """the wait before the first retry, doubled before each next one (5 s and 8 attempts: retries over
    about 10 minutes, so a receiver down for that long still gets the event)"""
    webhook_backoff_max_seconds: float = 3600.0
    """the longest wait between two tries of one delivery"""
    webhook_disable_after: int = 10
    """a webhook whose deliveries failed this many times in a row (each after all its attempts) is
    disabled; its owner enables it again (`enable_webhook`)"""
    webhook_timeout_seconds: float = 10.0
    """one delivery's POST (connect and answer); longer counts as a failed attempt"""
    webhook_log_size: int = 100
    """finished deliveries kept per webhook for its delivery log (older ones are removed)"""

    def uses_data_dir(self) -> bool:
        """False when both the database and the blobs live elsewhere: then the host keeps no state."""
        return not (self.database_url and self.storage_url)

    def resolved_database_url(self) -> str:
        url = self.database_url or f"sqlite:///{(self.data / 'hub.sqlite3').resolve()}"
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
