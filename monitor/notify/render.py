"""Notification text. Payloads carry everything; rendering never looks anything up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def status_tag(payload: Mapping[str, Any]) -> str:
    return f"[{str(payload['status']).upper()}]"


def console_line(payload: Mapping[str, Any]) -> str:
    """`[FIRING] rule series (severity): sentence` on one line."""
    summary = " ".join(str(payload["summary"]).split())
    return (f"{status_tag(payload)} {payload['rule']} {payload['series']} "
            f"({payload['severity']}): {summary}")


def webhook_body(payload: Mapping[str, Any], receiver: str) -> dict[str, Any]:
    return {"version": "1", "receiver": receiver, "status": payload["status"], "alert": dict(payload)}
