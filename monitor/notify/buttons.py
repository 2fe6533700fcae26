"""The buttons of a Slack parent message that act on its alert (silence, acknowledge,
unsilence): what each is called, the value that names the alert episode it acts on, and the
blocks that show them with who did what.

A firing parent carries "Silence 30 days", "Silence until next release" and "Acknowledge";
one silenced or acknowledged from Slack carries "Unsilence" (its value names the silence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

Block = dict[str, Any]
MAX_VALUE = 2000  # Block Kit's limit for a button's value


class Action(Enum):
    """A button's `action_id`."""

    SILENCE_30_DAYS = "tradewatch_silence_30d"
    SILENCE_UNTIL_RELEASE = "tradewatch_silence_release"
    ACKNOWLEDGE = "tradewatch_acknowledge"
    UNSILENCE = "tradewatch_unsilence"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {Action.SILENCE_30_DAYS: "Silence 30 days",
           Action.SILENCE_UNTIL_RELEASE: "Silence until next release",
           Action.ACKNOWLEDGE: "Acknowledge", Action.UNSILENCE: "Unsilence"}
FIRING_ACTIONS = (Action.SILENCE_30_DAYS, Action.SILENCE_UNTIL_RELEASE, Action.ACKNOWLEDGE)


@dataclass(frozen=True, slots=True)
class Target:
    """The alert episode a button acts on, as the receiver keeps it (receiver_state), and the
    silence an Unsilence button ends."""

    receiver: str
    fingerprint: str
    episode: int
    silence: str | None = None

    def value(self) -> str:
        data: dict[str, Any] = {"r": self.receiver, "f": self.fingerprint, "e": self.episode}
        if self.silence:
            data["s"] = self.silence
        text = json.dumps(data, separators=(",", ":"))
        if len(text) > MAX_VALUE:
            raise ValueError("a button value past Block Kit's 2,000 characters (receiver name too long)")
        return text

    @classmethod
    def parse(cls, text: object) -> Target | None:
        """The target a button's value names; None for a value tradewatch did not write."""
        try:
            data = json.loads(str(text))
            target = cls(str(data["r"]), str(data["f"]), int(data["e"]),
                         str(data["s"]) if data.get("s") else None)
        except (ValueError, TypeError, KeyError):
            return None
        return target


@dataclass(frozen=True, slots=True)
class Controls:
    """What a parent shows of its buttons: the target, and `note` (mrkdwn, escaped by the
    caller) saying who silenced or acknowledged it until when, once someone did."""

    target: Target
    note: str = ""


def control_blocks(controls: Controls) -> list[Block]:
    """The note, if any, and the buttons: Unsilence while a silence from Slack holds, else
    the three that silence or acknowledge."""
    blocks: list[Block] = []
    if controls.note:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": controls.note[:3000]}})
    actions = (Action.UNSILENCE,) if controls.target.silence else FIRING_ACTIONS
    value = controls.target.value()
    blocks.append({"type": "actions", "block_id": "tradewatch_actions", "elements": [
        {"type": "button", "action_id": action.value, "value": value,
         "text": {"type": "plain_text", "text": action.label, "emoji": False},
         **({"style": "primary"} if action is Action.ACKNOWLEDGE else {})}
        for action in actions]})
    return blocks
