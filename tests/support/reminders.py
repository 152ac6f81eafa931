"""The SMS gateway (Twilio's API, intercepted) and the settings the reminder tests share."""

from __future__ import annotations

from typing import Any

from storage.settings import Settings

SID = "AC0123456789abcdef0123456789abcdef"


TOKEN = "f00dfeedf00dfeedf00dfeedf00dfeed"


GATEWAY = f"twilio://{SID}:{TOKEN}@12135550100"


def settings(**extra: Any) -> Settings:
    base: dict[str, Any] = {
        "reminder_gateway_url": GATEWAY,
        "program_phone": "(213) 555-0100",
        "delivery_backoff_seconds": 60,
        "delivery_max_attempts": 3,
    }
    return Settings(**{**base, **extra})
