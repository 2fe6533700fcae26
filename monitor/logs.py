"""The commands' log output: one event is always one line, and no secret is ever printed.

Label values, publishers' error texts and exception messages end up in log lines; a newline
in any of them would start a line a reader (or a log pipeline) takes for a separate event,
so every field is escaped. Two formats: logfmt for people, JSON lines for collectors. The
secret filter masks every record before any handler writes it; the CLI installs both, never
an import.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from monitor.secrets import Masker

LOG_FORMATS = ("logfmt", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
_NOISY = ("apscheduler", "httpx", "httpcore")

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, quotes and backslashes.
_UNSAFE = re.compile('[\x00-\x1f\x7f-\x9f\u2028\u2029"\\\\]')
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}
_BARE = re.compile(r'[^\s="\\\x00-\x1f\x7f-\x9f\u2028\u2029]+')
# `key=%s` placeholders of a message template, so that fields come from the template and
# the arguments, never from parsing text that data may have written.
_PLACEHOLDER = re.compile(r"(?:(?P<key>[A-Za-z_][\w.]*)=)?%(?P<spec>[-#0 +]*(?:\d+)?(?:\.\d+)?[a-zA-Z%])")


def escape(text: str) -> str:
    """`text` with every character that could end a line or a quoted value escaped."""
    return _UNSAFE.sub(lambda m: _ESCAPES.get(m[0]) or f"\\u{ord(m[0]):04x}", text)


def logfmt_value(text: str) -> str:
    """A logfmt value: bare when it is one plain word, else quoted and escaped."""
    return text if _BARE.fullmatch(text) else f'"{escape(text)}"'


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `key=%s` fields of a record, from its template and arguments ({} when the two do
    not line up, e.g. a template with mapping placeholders)."""
    args = record.args
    if not isinstance(args, tuple) or not args or not isinstance(record.msg, str):
        return {}
    out: dict[str, Any] = {}
    position = 0
    for match in _PLACEHOLDER.finditer(record.msg):
        spec = match["spec"]
        if spec == "%":
            continue
        if position >= len(args):
            return {}
        arg = args[position]
        position += 1
        if match["key"]:
            try:
                text = f"%{spec}" % (arg,)
            except (TypeError, ValueError):
                return {}
            whole = spec[-1] in "di" and isinstance(arg, int) and not isinstance(arg, bool)
            out[match["key"]] = arg if whole else text
    return out if position == len(args) else {}


def _exception(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    return "\n".join(t for t in (record.exc_text, record.stack_info) if t)


class LogfmtFormatter(logging.Formatter):
    """`ts=... level=info logger=... msg="..."`: one line per event, every field escaped."""

    def format(self, record: logging.LogRecord) -> str:
        line = (f'ts={self.formatTime(record, "%Y-%m-%dT%H:%M:%S")}Z level={record.levelname.lower()} '
                f'logger={logfmt_value(record.name)} msg="{escape(record.getMessage())}"')
        if exc := _exception(self, record):
            line += f' exc="{escape(exc)}"'
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's key=value fields
    and the exception; json.dumps escapes every control character."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        for key, value in fields(record).items():
            event.setdefault(key, value)
        if exc := _exception(self, record):
            event["exception"] = exc
        return json.dumps(event, ensure_ascii=False, default=str).translate(_JSON_UNSAFE)


# json.dumps escapes C0 controls but leaves DEL, the C1 controls (NEL among them) and the
# Unicode separators as they are, and some readers split lines on those.
_JSON_UNSAFE = {c: f"\\u{c:04x}" for c in [*range(0x7F, 0xA0), 0x2028, 0x2029]}


class SecretFilter(logging.Filter):
    """Masks secret values in a record's message, arguments, exception and stack text, in
    place, so that every handler after it writes the masked record.

    Secrets are the ones given plus those `follow`ed sources return at each record (the
    running config's, which a reload replaces)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._fixed = frozenset(secrets)
        self._sources: list[Callable[[], Iterable[str]]] = []
        self._current: list[Iterable[str]] = []  # held, so that their ids stay theirs
        self._mask = Masker(self._fixed)

    def add(self, secrets: Iterable[str]) -> None:
        self._fixed |= frozenset(secrets)
        self._mask = self._mask.with_secrets(self._fixed)

    def follow(self, source: Callable[[], Iterable[str]]) -> None:
        self._sources.append(source)

    def _masker(self) -> Masker:
        current = [source() for source in self._sources]
        if list(map(id, current)) != list(map(id, self._current)):  # a reload brought new secrets
            self._current = current
            self._mask = Masker([*self._fixed, *(s for c in current for s in c)])
        return self._mask

    def filter(self, record: logging.LogRecord) -> bool:
        mask = self._masker()
        if not mask:
            return True
        record.msg = mask(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(mask, arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _masked(mask, value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def _masked(mask: Masker, value: Any) -> Any:
    """The value itself when it shows no secret (numbers keep their type), else its text masked."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    masked = mask(text)
    return value if masked == text else masked


def setup_logging(level: str, fmt: str = "logfmt", secrets: Iterable[str] = ()) -> SecretFilter:
    """One handler on stderr for the whole process, in `fmt`, behind a secret filter that
    the caller teaches more secrets once the config is loaded."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonFormatter() if fmt == "json" else LogfmtFormatter()
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    secret_filter = SecretFilter(secrets)
    handler.addFilter(secret_filter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # slack_sdk logs every failed request at ERROR; the dispatcher reports failures itself,
    # once per receiver and interval, so an outage is not a line per request.
    logging.getLogger("slack_sdk.web.base_client").setLevel(logging.CRITICAL)
    logging.getLogger("slack_sdk.webhook.client").setLevel(logging.CRITICAL)
    return secret_filter
