"""Work the hub hands to its workers: verified evaluations (and the key that signs them), webhooks and
their deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class Evaluation(Base):
    """One declared evaluation of one version (a card's ``model-index``, see ``hub_rules.eval_index``) and
    its verified result. ``job_id`` names the queue job; a result is accepted once, for the current job id."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("version_id", "dataset", "dataset_revision", "split", "metric", name="uq_evaluation"),
        Index("ix_evaluations_board", "base_fingerprint", "dataset", "metric", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), unique=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repos.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(100))
    base_fingerprint: Mapped[str | None] = mapped_column(String(80), nullable=True)
    task: Mapped[str] = mapped_column(String(50))
    dataset: Mapped[str] = mapped_column(String(201))
    dataset_revision: Mapped[str] = mapped_column(String(100))
    split: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(32))
    reported: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    n: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued, running, done, failed
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    evaluator_json: Mapped[str] = mapped_column(Text, default="{}")  # evaluator versions and hardware
    # the token whose worker claimed the job: while it runs, that token may read what the job names
    claimed_token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class EvalSigningKey(Base):
    """The deployment's one key for ``verifyToken`` (``services/eval_signing.py``): row ``id = 1``, made once by
    whichever host needs it first (insert if absent, so hosts racing agree on one key)."""

    __tablename__ = "eval_signing_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Webhook(Base):
    """A user's webhook (HF's ``/api/settings/webhooks``): the events of what it watches (``WebhookWatch``)
    in its domains are POSTed to ``url``, signed with ``secret``. ``failures`` counts deliveries that failed
    in a row (each after all its attempts); past ``HUB_WEBHOOK_DISABLE_AFTER`` the webhook is disabled."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))  # the HMAC key: kept as given (the owner sees it)
    domains_json: Mapped[str] = mapped_column(String(100), default='["repo", "discussion"]')
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    watched: Mapped[list[WebhookWatch]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="WebhookWatch.position"
    )


class WebhookWatch(Base):
    """One item a webhook watches: a user or org (every repo of that namespace) or one model or dataset.
    ``key`` is the lower-case namespace or ``namespace/name`` an event is matched on."""

    __tablename__ = "webhook_watches"
    __table_args__ = (Index("ix_webhook_watches_key", "key", "type"),)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(10))  # user, org, model, dataset
    name: Mapped[str] = mapped_column(String(201))
    key: Mapped[str] = mapped_column(String(201))


class WebhookDelivery(Base):
    """One event for one webhook and its delivery: ``pending`` (due at ``next_attempt_at``) → ``sending``
    (a worker claimed it) → ``delivered``, or back to ``pending`` after a failed attempt, or ``failed``
    when no attempts are left. The payload is fixed when the event happens; each attempt is signed anew."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_log", "webhook_id", "created_at"),
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(40))
    repo: Mapped[str] = mapped_column(String(201))
    payload_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # handed to the queue
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(100), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # of the last attempt
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the last attempt failed, one line
