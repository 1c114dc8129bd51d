"""Server configuration from the environment (``HUB_*``), built only when asked for,
so importing the package never reads the environment or touches the disk."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    data: Path = Path("hub-data")
    database_url: str | None = None  # default: SQLite file in the data dir
    storage_url: str | None = None  # default: fs backend in the data dir; or s3://bucket/prefix?endpoint=...
    max_file_bytes: int = 20 * 1024**3
    max_files_per_version: int = 10_000
    max_header_bytes: int = 8 * 1024 * 1024  # safetensors JSON header (real ones are KiB to a few MiB)
    upload_ttl_seconds: int = 24 * 3600
    hf_max_commit_bytes: int = 64 * 1024 * 1024
    open_signup: bool = True  # HUB_OPEN_SIGNUP=0: only an admin creates accounts (hub admin create-token)
    session_days: int = 30  # a web sign-in lasts this long unless signed out or revoked
    download_flush_seconds: float = 10.0  # how often buffered download counts are written
    download_count_window_seconds: int = 3600  # one caller's pulls of one version count once per window (0: all)
    access_log: str = "stderr"  # one JSON line per request: "stderr", "off", or a file path
    # Limits against strangers (hub_server/limits): bodies, JSON depth, request rates, quotas.
    max_body_bytes: int = 1024 * 1024  # every route except blob uploads and the HF commit
    max_json_depth: int = 32
    rate_limits: bool = True
    rate_read: str = "1200/minute"  # per token, or per client address when anonymous
    rate_write: str = "600/minute"
    rate_auth_failures: str = "30/minute"  # per client address
    redis_url: str | None = None  # share counters between workers and hosts; default in-process
    rate_key_prefix: str = "adapter-hub"
    max_open_uploads: int = 32  # per user
    max_upload_bytes_per_day: int = 100 * 1024**3  # per user
    namespace_quota_bytes: int | None = None  # default per namespace; admins set others
    storage_redirect: bool = False  # downloads answer 302 to a presigned storage URL (when the store has them)
    storage_redirect_seconds: int = 300  # lifetime of those URLs
    public_url: str | None = None  # what clients reach (the load balancer); default: the request's own URL

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

    def uses_data_dir(self) -> bool:
        """False when both the database and the blobs live elsewhere: then the host keeps no state."""
        return not (self.database_url and self.storage_url)

    def resolved_database_url(self) -> str:
        url = self.database_url or f"sqlite:///{(self.data / 'hub.sqlite3').resolve()}"
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
