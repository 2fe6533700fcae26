"""What a click on a Slack message's button does, whichever way it arrived (an HTTP request
to /slack/events whose signature was checked, or a Socket Mode envelope).

A click is acted on once: its id (from the click itself, so a replayed request and a
redelivered envelope have the same) is claimed in the store in the transaction that writes
its silence. "Silence 30 days", "Silence until next release" and "Acknowledge" create a
silence whose matchers are the alert's labels, each exactly (author: the Slack user,
comment "from Slack: ..."); "Unsilence" expires the silence its button names. The parent
message is then edited to say who did what until when, and the same goes into its thread.
An acknowledgement lasts until the alert's episode resolves (the resolution is still
posted), at most `ACKNOWLEDGE_AT_MOST`. A user outside the receiver's `allowed_users` gets an
ephemeral "not allowed" through the click's `response_url`, and nothing changes.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient

from monitor.config import SourceConfig
from monitor.matchers import Matcher
from monitor.notify.buttons import Action, Target
from monitor.notify.release import next_release
from monitor.notify.render import escape_mrkdwn
from monitor.notify.slack import SlackDeliveryError
from monitor.notify.slack_state import SlackThreads
from monitor.store import Store
from monitor.store.requests import Replayed
from monitor.store.silences import SilenceError, SilenceStore

log = logging.getLogger(__name__)

SILENCE_DAYS = timedelta(days=30)
ACKNOWLEDGE_AT_MOST = timedelta(days=365)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
Respond = Callable[[str, str], None]  # response_url, text


class Outcome(Enum):
    DONE = "done"
    REPLAYED = "replayed"  # this click was acted on already
    NOT_ALLOWED = "not_allowed"
    IGNORED = "ignored"  # not a tradewatch button, or nothing left to act on
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Click:
    """One press of a tradewatch button, read from a `block_actions` payload."""

    action: Action
    target: Target
    user: str
    user_name: str
    request_id: str
    response_url: str | None


def read_click(payload: Mapping[str, Any]) -> Click | None:
    """The click a `block_actions` payload carries, None for anything else (a link button,
    another app's action, another kind of payload)."""
    if payload.get("type") != "block_actions":
        return None
    for action in payload.get("actions") or []:
        if not isinstance(action, Mapping):
            continue
        try:
            kind = Action(action.get("action_id"))
        except ValueError:
            continue
        target = Target.parse(action.get("value"))
        user = payload.get("user") if isinstance(payload.get("user"), Mapping) else {}
        if target is None or not isinstance(user, Mapping) or not user.get("id"):
            return None
        container = payload.get("container") if isinstance(payload.get("container"), Mapping) else {}
        key = [payload.get("trigger_id"), action.get("action_ts"), kind.value, action.get("value"),
               user.get("id"), (container or {}).get("message_ts")]
        request_id = "slack:" + hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()
        url = payload.get("response_url")
        return Click(kind, target, str(user["id"]), str(user.get("username") or user.get("name") or ""),
                     request_id, str(url) if url else None)
    return None


def respond(url: str, text: str) -> None:
    """An ephemeral answer to the user who clicked, through the click's `response_url` (only
    they see it). Failures are logged, not raised: the click was handled, or refused."""
    try:
        response = WebhookClient(url, timeout=10, retry_handlers=[]).send(
            text=text, response_type="ephemeral", replace_original=False)
    except (OSError, http.client.HTTPException, SlackRequestError) as exc:
        log.warning("slack response_url answer failed: %s", type(exc).__name__)
        return
    if response.status_code != 200:
        log.warning("slack response_url answer refused: HTTP %s", response.status_code)


def when(at: datetime) -> str:
    return f"{at:%-d %B %Y, %H:%M} UTC"


class SlackActions:
    """The one handler of button clicks. `notifiers` and `sources` are read at each click, so
    a config reload applies (a receiver's new allow list, a source's calendar).

    `handle` does the store's part at once: the click's claim and its silence commit in one
    transaction, so a click is acted on exactly once even if the process dies right after.
    What goes to Slack (the parent's edit, the thread reply, an ephemeral answer) is queued on
    a worker thread of its own, so the request is answered within Slack's 3 seconds even when
    Slack is slow to take the edit or asks for a retry."""

    def __init__(self, store: Store, notifiers: Callable[[], Mapping[str, object]],
                 sources: Callable[[], Sequence[SourceConfig]], clock: Callable[[], datetime],
                 answer: Respond = respond) -> None:
        self._store = store
        self._silences = SilenceStore(store)
        self._notifiers = notifiers
        self._sources = sources
        self._clock = clock
        self._answer = answer
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slack-click")
        self._queued: Future[None] | None = None
        self._queue_lock = threading.Lock()

    def handle(self, payload: Mapping[str, Any]) -> Outcome:
        click = read_click(payload)
        if click is None:
            return Outcome.IGNORED
        now = self._clock()
        if self._store.seen_request(click.request_id):
            return self._replayed(click)
        notifier = self._notifiers().get(click.target.receiver)
        if not isinstance(notifier, SlackThreads):
            return self._refuse(click, now, Outcome.IGNORED,
                                "This alert's receiver is no longer configured; nothing was changed.")
        if not notifier.allows(click.user):
            log.info("slack click refused receiver=%s user=%s action=%s", notifier.name, click.user,
                     click.action.value)
            return self._refuse(click, now, Outcome.NOT_ALLOWED, "You are not allowed to silence or "
                                f"acknowledge alerts of {notifier.name}; nothing was changed.")
        try:
            if click.action is Action.UNSILENCE:
                return self._unsilence(click, notifier, now)
            return self._silence(click, notifier, now)
        except Replayed:
            return self._replayed(click)
        except SilenceError as exc:
            return self._refuse(click, now, Outcome.FAILED, f"Nothing was changed: {exc}.")

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until what was queued for Slack has been sent (or has failed); False on timeout."""
        queued = self._queued
        if queued is None:
            return True
        try:
            queued.result(timeout)
        except FutureTimeout:
            return False
        return True

    def close(self) -> None:
        """Send what is queued, then stop the worker."""
        self._worker.shutdown(wait=True)

    def _later(self, work: Callable[[], None]) -> None:
        def run() -> None:
            try:
                work()
            except Exception:  # a bug must not stop the clicks that follow
                log.exception("slack click follow-up failed")

        with self._queue_lock:  # the last one queued is the last one done: one worker, in order
            self._queued = self._worker.submit(run)

    def _replayed(self, click: Click) -> Outcome:
        log.info("slack click replayed, ignored action=%s", click.action.value)
        return Outcome.REPLAYED

    def _refuse(self, click: Click, now: datetime, outcome: Outcome, text: str) -> Outcome:
        """A click that changes nothing: claimed, so that a replay is not answered twice."""
        if not self._store.claim_request(click.request_id, now):
            return self._replayed(click)
        self._later(lambda: self._tell(click, text))
        return outcome

    def _silence(self, click: Click, notifier: SlackThreads, now: datetime) -> Outcome:
        target = click.target
        parent = notifier.firing_parent(target.fingerprint, target.episode)
        if parent is None:
            return self._refuse(click, now, Outcome.IGNORED,
                                "This alert is no longer firing here; nothing was silenced.")
        matchers = [str(Matcher(name, "=", value)) for name, value in sorted(parent.labels.items())]
        episode: tuple[str, int] | None = None
        if click.action is Action.SILENCE_30_DAYS:
            ends, what, why = now + SILENCE_DAYS, "Silenced", "30 days"
        elif click.action is Action.SILENCE_UNTIL_RELEASE:
            until = next_release(parent.labels, parent.period, self._sources(), now)
            ends, what, why = until.at, "Silenced", until.reason
        else:
            ends, what, why = now + ACKNOWLEDGE_AT_MOST, "Acknowledged", "until it resolves"
            episode = (target.fingerprint, target.episode)
        silence = self._silences.add(matchers, now, ends, self._author(click), f"from Slack: {what.lower()} "
                                     f"({why})", now, acknowledges=episode, request_id=click.request_id)
        who = self._mention(click)
        if episode is not None:
            note = (f":eyes: *Acknowledged* by {who}: quiet until it resolves (at the latest "
                    f"{when(ends)}); its resolution will be posted.")
        else:
            note = f":no_bell: *Silenced* by {who} until {when(ends)} ({escape_mrkdwn(why)})."
        log.info("slack click receiver=%s user=%s action=%s silence=%s until=%s", notifier.name, click.user,
                 click.action.value, silence.id, ends.isoformat())
        self._later(lambda: self._say(click, notifier, note, f"{note} Silence `{silence.id}`.", silence.id,
                                      f"{what}, but the message could not be found to update it."))
        return Outcome.DONE

    def _unsilence(self, click: Click, notifier: SlackThreads, now: datetime) -> Outcome:
        target = click.target
        silence = self._silences.get(target.silence or "")
        expired = False
        if silence is not None and silence.state(now) != "expired":
            try:
                self._silences.expire(silence.id, now, request_id=click.request_id)
                expired = True
            except SilenceError:  # expired meanwhile, perhaps by a copy of this click
                pass
        if not expired and not self._store.claim_request(click.request_id, now):
            return self._replayed(click)
        note = f":bell: *Unsilenced* by {self._mention(click)} on {when(now)}."
        log.info("slack click receiver=%s user=%s action=%s silence=%s", notifier.name, click.user,
                 click.action.value, target.silence)
        self._later(lambda: self._say(click, notifier, note, note, None,
                                      "Unsilenced; the alert is no longer firing here."))
        return Outcome.DONE

    def _say(self, click: Click, notifier: SlackThreads, note: str, reply: str, silence: str | None,
             not_found: str) -> None:
        """The parent edited and the thread told; the user told when that could not be done."""
        target = click.target
        try:
            if not notifier.acted(target.fingerprint, target.episode, note, reply, silence):
                self._tell(click, not_found)
        except SlackDeliveryError as exc:
            log.warning("slack click acted on but the message was not updated: %s", exc)
            self._tell(click, "Done, but the message could not be updated; see tradewatch's log.")

    def _tell(self, click: Click, text: str) -> None:
        if click.response_url:
            self._answer(click.response_url, text)

    @staticmethod
    def _author(click: Click) -> str:
        return f"{click.user_name} (Slack {click.user})" if click.user_name else f"Slack {click.user}"

    @staticmethod
    def _mention(click: Click) -> str:
        """`<@U123>` for a Slack user ID; anything else escaped, so it can ping no one."""
        return f"<@{click.user}>" if _USER_ID.match(click.user) else escape_mrkdwn(click.user)
