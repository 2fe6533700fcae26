"""Slack threads per alert episode: what to send next, given how far the send got.

One parent message per episode, its chart and later updates in the thread, the parent edited
when the alert resolves; many alerts of one group as a digest. How far each send got is kept
per (receiver, fingerprint, episode) in the store. A message that must exist once (parent,
digest, resolution reply) is posted only after its intent is saved and carries Slack message
metadata naming the receiver, the alert and the episode: a send that finds an intent without
its result cannot know whether the earlier attempt reached Slack (the process died, or the
answer was lost), so it looks for that message and adopts it before posting again. The Slack
calls themselves are in slack.py, the only slack_sdk import.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from monitor.alerts.notification import Notification
from monitor.notify import render
from monitor.notify.buttons import Controls, Target
from monitor.notify.chart import HistoryFn, SeriesData, alt_text, chart_filename, chart_or_none
from monitor.notify.ruleinfo import RuleInfo
from monitor.store import ReceiverState


class Progress(StrEnum):
    """How far a send got, per (receiver, fingerprint, episode); a digest is (receiver,
    "group:...", 0). Stored by value in `receiver_state.progress`."""

    POSTING = "posting"  # parent or digest about to be posted (it may be in the channel); ts: the intent's
    POSTED = "posted"  # parent posted, chart not yet (it may be in the thread); digest: CSV not yet
    FIRING = "firing"  # parent and chart done
    RESOLVING = "resolving"  # resolution reply about to be posted (it may be in the thread), then the edit
    RESOLVED = "resolved"
    DIGEST = "digest"  # the alert went out inside a digest: replies thread there, no parent edit
    DIGEST_RESOLVING = "digest-resolving"  # resolution reply about to be posted in the digest's thread
    GROUP_DONE = "done"  # a digest and its CSV are posted


# Slack metadata event types: one per kind of message that must exist once.
ALERT_EVENT = "tradewatch_alert"
DIGEST_EVENT = "tradewatch_digest"
RESOLUTION_EVENT = "tradewatch_resolution"

LOOKBACK_SECONDS = 600.0  # the search starts this long before the intent: clock skew with Slack
LOOKUP_LIMIT = 200  # messages per page
LOOKUP_PAGES = 10  # pages at most: a channel's newest 2,000 messages since the intent
DIGEST_CSV = "tradewatch-digest.csv"


class ReceiverStateStore(Protocol):
    def receiver_state(self, receiver: str, fingerprint: str, episode: int) -> ReceiverState | None: ...

    def save_receiver_states(self, states: Sequence[ReceiverState]) -> None: ...


class MemoryReceiverState:
    """Thread state for a notifier built without a store: lost on restart."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str, int], ReceiverState] = {}
        self._lock = threading.Lock()

    def receiver_state(self, receiver: str, fingerprint: str, episode: int) -> ReceiverState | None:
        with self._lock:
            return self._states.get((receiver, fingerprint, episode))

    def save_receiver_states(self, states: Sequence[ReceiverState]) -> None:
        with self._lock:
            for s in states:
                self._states[(s.receiver, s.fingerprint, s.episode)] = s


class SlackCalls(Protocol):
    """The Slack calls a thread needs. `maybe_sent` says an earlier attempt may have posted
    the message or shared the file already: it is then looked for first."""

    def channel_id(self) -> str: ...

    def post_once(self, state: ReceiverState, event: str, blocks: list[render.Block], text: str, *,
                  maybe_sent: bool, thread_ts: str | None = None) -> str: ...

    def upload_once(self, state: ReceiverState, filename: str, maybe_sent: bool, **upload: Any) -> None: ...

    def reply(self, state: ReceiverState, blocks: list[render.Block], text: str) -> None: ...

    def edit(self, state: ReceiverState, blocks: list[render.Block], text: str) -> None: ...


class SlackThreads:
    def __init__(self, name: str, calls: SlackCalls, *, state: ReceiverStateStore | None,
                 history: HistoryFn | None, digest_size: int, chart: bool, mention: str | None,
                 clock: Callable[[], datetime], rules: Mapping[str, RuleInfo] | None = None,
                 links: Sequence[tuple[str, str]] = (), buttons: bool = False,
                 allowed_users: Sequence[str] | None = None) -> None:
        self.name = name
        self.buttons = buttons  # the parent carries silence/acknowledge buttons (someone listens)
        self._allowed = frozenset(allowed_users) if allowed_users is not None else None
        self.digest_size = digest_size
        self._calls = calls
        self._state: ReceiverStateStore = state if state is not None else MemoryReceiverState()
        self._history = history
        self._chart = chart
        self._mention = mention
        self._clock = clock
        self._rules: Mapping[str, RuleInfo] = rules or {}
        self._links = tuple(links)  # the receiver's link templates: buttons on parent messages

    # -- alerts ------------------------------------------------------------------------------
    def send(self, payload: Notification) -> None:
        """One notification of an episode. A firing this receiver already has (a drain that
        stopped before recording it), or one arriving after its episode resolved, changes
        nothing; a reminder is a reply in the thread."""
        state = self._known(payload)
        data = SeriesData(self._history, str(payload.series))
        if payload.resolved:
            self._resolve(payload, state, data)
        elif state is None or state.progress in (Progress.POSTING, Progress.POSTED):
            self._fire(payload, state, data)
        elif payload.reminder and state.progress in (Progress.FIRING, Progress.DIGEST):
            self._remind(payload, state, data)

    def _fire(self, payload: Notification, state: ReceiverState | None, data: SeriesData) -> None:
        """The parent, then its chart in the thread; the chart is uploaded only once the
        parent is saved, so only a POSTED send may have shared it already."""
        chart_maybe_sent = state is not None and state.progress == Progress.POSTED
        state = self._parent(state or self._intend(payload), data, maybe_sent=state is not None)
        if state.progress != Progress.POSTED:
            return
        parent = Notification.from_json(state.parent)
        png = chart_or_none(data, parent, self._rules.get(parent.rule)) if self._chart else None
        if png is not None:
            self._calls.upload_once(state, chart_filename(parent), chart_maybe_sent, file=png,
                                    title=render.chart_title(parent, self._rules.get(parent.rule)),
                                    alt_txt=alt_text(parent, self._rules.get(parent.rule)))
        self._save(replace(state, progress=Progress.FIRING))

    def _resolve(self, payload: Notification, state: ReceiverState | None, data: SeriesData) -> None:
        """A reply in the thread, then the parent edited (an alert of a digest: the reply only).
        An episode whose firing never reached this receiver gets a message of its own."""
        if state is None or (state.progress == Progress.POSTING and state.parent.get("status") == "resolved"):
            self._parent(state or self._intend(payload), data, maybe_sent=state is not None)
            return
        state = self._parent(state, data, maybe_sent=True)  # a firing parent left half-posted
        if state.progress == Progress.RESOLVED:
            return
        digest = state.progress in (Progress.DIGEST, Progress.DIGEST_RESOLVING)
        maybe_sent = state.progress in (Progress.RESOLVING, Progress.DIGEST_RESOLVING)
        if not maybe_sent:
            resolving = Progress.DIGEST_RESOLVING if digest else Progress.RESOLVING
            state = self._save(replace(state, progress=resolving))
        info = self._rules.get(payload.rule)
        self._calls.post_once(state, RESOLUTION_EVENT,
                              render.thread_blocks(payload, data.at, info=info, history=data.values),
                              render.fallback_text(payload, info, data.values), thread_ts=state.ts,
                              maybe_sent=maybe_sent)
        if not digest:
            firing = Notification.from_json(state.parent)
            self._calls.edit(state, render.resolved_parent_blocks(firing, payload, data.at, info=info,
                                                                  history=data.values, links=self._links),
                             render.fallback_text(payload, info, data.values))
        self._save(replace(state, progress=Progress.RESOLVED))

    def _remind(self, payload: Notification, state: ReceiverState, data: SeriesData) -> None:
        """A reply, and the parent refreshed. Not looked for after a crash: a reminder said
        twice does no harm, so reminders are delivered at least once."""
        info = self._rules.get(payload.rule)
        text = render.fallback_text(payload, info, data.values)
        self._calls.reply(state, render.thread_blocks(payload, data.at, info=info, history=data.values), text)
        if state.progress == Progress.DIGEST:
            return
        self._calls.edit(state, render.alert_blocks(payload, data.at, info=info, history=data.values,
                                                    links=self._links, controls=self._controls(state)),
                         text)
        self._save(replace(state, parent=payload.to_json()))

    def _intend(self, payload: Notification) -> ReceiverState:
        """The intent to post the episode's first message, saved before Slack is called."""
        return self._save(ReceiverState(self.name, str(payload.fingerprint), int(payload.episode),
                                        self._calls.channel_id(), intent_ts(self._clock()), Progress.POSTING,
                                        payload.to_json()))

    def _parent(self, state: ReceiverState, data: SeriesData, maybe_sent: bool) -> ReceiverState:
        """Make sure an intended parent exists: found (an earlier attempt posted it) or posted."""
        if state.progress != Progress.POSTING:
            return state
        parent = Notification.from_json(state.parent)
        info = self._rules.get(parent.rule)
        controls = None if parent.resolved else self._controls(state)
        blocks = render.alert_blocks(parent, data.at, self._mention, info=info, history=data.values,
                                     links=self._links, controls=controls)
        text = render.fallback_text(parent, info, data.values)
        ts = self._calls.post_once(state, ALERT_EVENT, blocks, text, maybe_sent=maybe_sent)
        done = Progress.RESOLVED if parent.resolved else Progress.POSTED
        return self._save(replace(state, ts=ts, progress=done))

    # -- buttons -----------------------------------------------------------------------------
    def _controls(self, state: ReceiverState, silence: str | None = None, note: str = "") -> Controls | None:
        if not self.buttons:
            return None
        return Controls(Target(self.name, state.fingerprint, state.episode, silence), note)

    def allows(self, user: str) -> bool:
        """Whether a Slack user may use this receiver's buttons (its `allowed_users`)."""
        return self._allowed is None or user in self._allowed

    def firing_parent(self, fingerprint: str, episode: int) -> Notification | None:
        """The firing notification of an episode's parent message in this receiver's channel,
        None when it has none (never posted, in a digest, resolved)."""
        state = self._load(fingerprint, episode)
        if state is None or state.progress not in (Progress.POSTED, Progress.FIRING):
            return None
        return Notification.from_json(state.parent)

    def acted(self, fingerprint: str, episode: int, note: str, reply: str, silence: str | None) -> bool:
        """After a click: the parent edited to say who did what (`note`, mrkdwn), with
        Unsilence while `silence` holds or the firing buttons again, and `reply` in its
        thread. False when the episode has no firing parent here."""
        state = self._load(fingerprint, episode)
        if state is None or state.progress not in (Progress.POSTED, Progress.FIRING):
            return False
        parent = Notification.from_json(state.parent)
        info = self._rules.get(parent.rule)
        data = SeriesData(self._history, str(parent.series))
        controls = Controls(Target(self.name, fingerprint, episode, silence), note)
        text = render.fallback_text(parent, info, data.values)
        self._calls.edit(state, render.alert_blocks(parent, data.at, info=info, history=data.values,
                                                    links=self._links, controls=controls), text)
        self._calls.reply(state, render.note_blocks(reply), reply)
        return True

    # -- digests -----------------------------------------------------------------------------
    def send_group(self, payloads: Sequence[Notification], group_labels: Mapping[str, str]) -> None:
        """One message for many alerts (a release that moved hundreds of series): the largest
        moves first, the rest counted, the full list as CSV in the thread. Later updates of
        the firing alerts in it thread under it. A notification this receiver has begun to
        say already (a drain stopped while recording a digest) goes on alone, never into a
        second digest. A resolution whose episode has a parent message of its own goes to that
        parent's thread and edits it, never into a digest, where the parent would stay FIRING."""
        own = [p for p in payloads if p.resolved and has_own_parent(self._known(p))]
        if own:
            for p in own:
                self.send(p)
            said = {id(p) for p in own}
            payloads = [p for p in payloads if id(p) not in said]
        if len(payloads) <= 1:
            for p in payloads:
                self.send(p)
            return
        key = group_key(payloads)
        state = self._load(key, 0)
        maybe_sent = state is not None
        if state is None:
            begun = [said_before(p, self._known(p)) for p in payloads]
            if any(begun):
                for p in (p for p, b in zip(payloads, begun, strict=True) if b):
                    self.send(p)
                self.send_group([p for p, b in zip(payloads, begun, strict=True) if not b], group_labels)
                return
            state = self._save(ReceiverState(
                self.name, key, 0, self._calls.channel_id(), intent_ts(self._clock()), Progress.POSTING,
                {"count": len(payloads), "labels": dict(group_labels)}))
        if state.progress == Progress.POSTING:
            data = SeriesData(self._history, render.order_by_move(payloads)[0].series)
            blocks = render.digest_blocks(payloads, group_labels, self.digest_size, data.at,
                                          rules=self._rules)
            text = render.digest_text(payloads, group_labels)
            ts = self._calls.post_once(state, DIGEST_EVENT, blocks, text, maybe_sent=maybe_sent)
            state = replace(state, ts=ts, progress=Progress.POSTED)
            members = digest_members(payloads, state, [self._known(p) for p in payloads])
            self._state.save_receiver_states([state, *members])
            maybe_sent = False
        if state.progress == Progress.POSTED:
            self._calls.upload_once(state, DIGEST_CSV, maybe_sent, content=render.digest_csv(payloads),
                                    title=f"All {len(payloads)} alerts")
            self._save(replace(state, progress=Progress.GROUP_DONE))

    def _known(self, payload: Notification) -> ReceiverState | None:
        return self._load(str(payload.fingerprint), int(payload.episode))

    def _load(self, fingerprint: str, episode: int) -> ReceiverState | None:
        """The saved state, its progress read back as a `Progress`."""
        state = self._state.receiver_state(self.name, fingerprint, episode)
        return None if state is None else replace(state, progress=Progress(state.progress))

    def _save(self, state: ReceiverState) -> ReceiverState:
        self._state.save_receiver_states([state])
        return state


def intent_ts(now: datetime) -> str:
    """The intent's time in Slack's ts format: kept in `ts` until the message has its own."""
    return f"{now.timestamp():.6f}"


def search_oldest(intent: ReceiverState) -> str:
    """The `oldest` bound of the search for a message posted after `intent` was saved."""
    return f"{max(0.0, float(intent.ts) - LOOKBACK_SECONDS):.6f}"


def metadata(event_type: str, state: ReceiverState) -> dict[str, Any]:
    return {"event_type": event_type, "event_payload": {
        "fingerprint": state.fingerprint, "episode": state.episode, "receiver": state.receiver}}


def carries(message: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a message, as conversations.history/replies return it, carries `wanted`."""
    found = message.get("metadata")
    if not isinstance(found, Mapping) or found.get("event_type") != wanted["event_type"]:
        return False
    payload = found.get("event_payload")
    return isinstance(payload, Mapping) and all(
        str(payload.get(key)) == str(value) for key, value in wanted["event_payload"].items())


def shares_file(message: Mapping[str, Any], filename: str) -> bool:
    """Whether a thread message shares a file of that name (a chart, a digest's CSV)."""
    return any(isinstance(f, Mapping) and f.get("name") == filename for f in message.get("files") or [])


def group_key(payloads: Sequence[Notification]) -> str:
    """A digest's key: the same notifications make the same digest, drain after drain."""
    members = sorted((str(p.fingerprint), int(p.episode), str(p.status)) for p in payloads)
    return "group:" + hashlib.sha256(json.dumps(members).encode()).hexdigest()[:20]


def has_own_parent(known: ReceiverState | None) -> bool:
    """Whether an episode's firing went out as a parent message of its own (or is about to),
    rather than inside a digest."""
    return known is not None and known.progress not in (Progress.DIGEST, Progress.DIGEST_RESOLVING)


def said_before(payload: Notification, known: ReceiverState | None) -> bool:
    """Whether the receiver has begun to say this notification (the episode's firing, or its
    resolution). Reminders may be said again."""
    if payload.reminder or known is None:
        return False
    return not payload.resolved or known.progress in (
        Progress.RESOLVING, Progress.DIGEST_RESOLVING, Progress.RESOLVED)


def digest_members(payloads: Sequence[Notification], digest: ReceiverState,
                   known: Sequence[ReceiverState | None]) -> list[ReceiverState]:
    """What a posted digest said for each alert (`known`: its state before): a firing threads
    under the digest from now on, a resolution is done."""
    states = []
    for p, before in zip(payloads, known, strict=True):
        here = ReceiverState(digest.receiver, str(p.fingerprint), int(p.episode), digest.channel,
                             digest.ts, Progress.DIGEST, p.to_json())
        if p.resolved:
            states.append(replace(before or here, progress=Progress.RESOLVED))
        elif before is None and not p.reminder:
            states.append(here)
    return states
