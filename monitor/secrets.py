"""Secret values and their masking, so that no credential is ever printed.

A secret is any value a config took from the environment through `${VAR}`, and any token
the daemon reads from the environment itself. Values shorter than `MIN_LENGTH` are not
masked: hiding every "abc" in every line would garble logs and protect nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

REDACTED = "***"
MIN_LENGTH = 4
# Variables the daemon (or the Slack and Comtrade tooling around it) reads directly.
SECRET_ENV = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_WEBHOOK_URL",
              "TRADEWATCH_API_TOKEN", "TRADEWATCH_WEBHOOK_URL", "COMTRADE_KEY",
              "COMTRADE_SUBSCRIPTION_KEY", "COMTRADE_API_KEY")


def env_secrets(env: Mapping[str, str]) -> frozenset[str]:
    """The values of the known secret variables that are set in `env`."""
    return frozenset(value for name in SECRET_ENV if (value := env.get(name, "").strip()))


class Masker:
    """Replaces every known secret value in a text by `REDACTED`, in one pass."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so that a secret containing another is hidden whole.
        self.secrets: tuple[str, ...] = tuple(sorted(
            {s for s in secrets if s and len(s) >= MIN_LENGTH}, key=lambda s: (-len(s), s)))
        self._pattern = re.compile("|".join(map(re.escape, self.secrets))) if self.secrets else None

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(REDACTED, text)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def with_secrets(self, secrets: Iterable[str | None]) -> Masker:
        return Masker([*self.secrets, *secrets])
