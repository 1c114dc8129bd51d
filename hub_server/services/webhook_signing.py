"""The headers of one delivery attempt: HF's ``X-Webhook-Secret`` (the secret itself, which HF receivers
compare) and the Standard Webhooks HMAC-SHA256 signature (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``) made by the ``standardwebhooks`` package with the secret's UTF-8 bytes as key, so a
receiver checks it with ``standardwebhooks.Webhook(secret.encode()).verify(body, headers)``. The id stays
the same on every retry of one delivery (receivers de-duplicate on it); the timestamp is the attempt's."""

from __future__ import annotations

from datetime import datetime

USER_AGENT = "adapter-hub-webhooks/1"


def message_id(delivery_id: str) -> str:
    return f"msg_{delivery_id}"


def signed_headers(delivery_id: str, secret: str, body: str, at: datetime) -> dict[str, str]:
    from standardwebhooks import Webhook

    msg = message_id(delivery_id)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Secret": secret,
        "webhook-id": msg,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret.encode()).sign(msg, at, body),
    }
