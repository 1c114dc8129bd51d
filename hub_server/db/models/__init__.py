"""SQL tables of the hub, one module per subject. Every model is imported here, so
``from hub_server.db.models import Repo`` and ``Base.metadata`` see all of them."""

from .accounts import AuditEvent, NamespaceQuota, Org, OrgMember, SigningKey, Token, User, WebSession
from .base import Base, utcnow
from .community import AccessRequest, Collection, CollectionItem, Discussion, DiscussionEvent, Like, RepoGate
from .jobs import EvalSigningKey, Evaluation, Webhook, WebhookDelivery, WebhookWatch
from .repos import (
    TERM_TYPE,
    RefCommit,
    RefCommitFile,
    Repo,
    RepoRedirect,
    RepoRef,
    RepoTag,
    RepoTerm,
    Version,
    VersionFile,
    VersionTombstone,
)
from .storage import Blob, BlobUpload, UploadSession, XetRange, XetToken, XetXorb

__all__ = [
    "TERM_TYPE",
    "AccessRequest",
    "AuditEvent",
    "Base",
    "Blob",
    "BlobUpload",
    "Collection",
    "CollectionItem",
    "Discussion",
    "DiscussionEvent",
    "EvalSigningKey",
    "Evaluation",
    "Like",
    "NamespaceQuota",
    "Org",
    "OrgMember",
    "RefCommit",
    "RefCommitFile",
    "Repo",
    "RepoGate",
    "RepoRedirect",
    "RepoRef",
    "RepoTag",
    "RepoTerm",
    "SigningKey",
    "Token",
    "UploadSession",
    "User",
    "Version",
    "VersionFile",
    "VersionTombstone",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
    "WebhookWatch",
    "XetRange",
    "XetToken",
    "XetXorb",
    "utcnow",
]
