"""Sending to a signed webhook channel (:mod:`storage.webhook_channels`).

Each message is one POST of JSON, ``{"type", "timestamp", "data"}`` as the Standard Webhooks
specification suggests, with its three headers: ``webhook-id`` (the same for every attempt at
the same delivery, so a receiver drops a retry it already has), ``webhook-timestamp`` (Unix
seconds) and ``webhook-signature`` (``v1,`` and base64 of HMAC-SHA256 over
``id.timestamp.body`` with the channel's secret; signed by the ``standardwebhooks`` library).

Any 2xx answer is delivered; anything else (or no answer in time) is a failed attempt that the
outbox retries with its back-off. Redirects are not followed: a receiver that moved must be
re-added with its new address.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from monitor.messages import Message
from monitor.outbox import SendResult
from storage.errors import ChannelError
from storage.settings import mask_channel
from storage.webhook_channels import parse

USER_AGENT = "docketwatch-webhooks/1"
TIMEOUT = httpx.Timeout(15.0, connect=10.0)


def body_of(message: Message, now: datetime) -> str:
    """The JSON a receiver gets: the message's data, or (a test message) its title and text."""
    data = message.data or {"type": "test", "title": message.title, "text": message.text}
    event_type = str(data.get("type", "alert"))
    return json.dumps(
        {
            "type": f"docketwatch.{event_type}",
            "timestamp": now.isoformat(timespec="seconds"),
            "data": data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def signed_request(url: str, message: Message, now: datetime) -> tuple[str, dict[str, str], str]:
    """(endpoint, headers, body) of one attempt at sending ``message`` to a webhook channel."""
    target = parse(url)
    body = body_of(message, now)
    msg_id = message.key or f"msg_{uuid.uuid4().hex}"
    signature = Webhook(target.secret).sign(msg_id, now, body)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    return target.endpoint, headers, body


def send_webhook(url: str, message: Message) -> SendResult:
    try:
        endpoint, headers, body = signed_request(url, message, datetime.now(UTC))
    except ChannelError as exc:
        return SendResult(False, f"{mask_channel(url)}: {exc}")
    try:
        answer = httpx.post(
            endpoint,
            content=body.encode(),
            headers=headers,
            timeout=TIMEOUT,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return SendResult(False, f"webhook {mask_channel(url)}: {type(exc).__name__}: {exc}")
    if 200 <= answer.status_code < 300:
        return SendResult(True)
    return SendResult(
        False, f"webhook {mask_channel(url)} answered HTTP {answer.status_code}"[:2000]
    )
