"""The tables of the store (SQLAlchemy Core, so SQLite and PostgreSQL share one definition).

`observations` is the vintage history, one row per (series, fetch) holding every value that
fetch published or revised for the series, packed: `period_values` are little-endian float64,
`period_ordinals` little-endian int32 pandas period ordinals of the series' frequency (months,
quarters or years since 1970), or NULL when the values cover consecutive periods from
`first_period`. A row per value would be 24 million rows for a watch list of 100,000 series
of 20 years of months: minutes to insert into SQLite, where a row per series takes seconds.
Rows are only ever added; `id` orders them, so replaying them in order rebuilds the current
values (a later fetch wins).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

series_table = sa.Table(
    "series", metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("frequency", sa.String(1), nullable=False),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
)
observations = sa.Table(
    "observations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("series", sa.String, nullable=False),
    sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
    sa.Column("first_period", sa.Integer, nullable=False),
    sa.Column("cells", sa.Integer, nullable=False),
    sa.Column("period_ordinals", sa.LargeBinary),
    sa.Column("period_values", sa.LargeBinary, nullable=False),
)
sa.Index("observations_by_series", observations.c.series)
alerts = sa.Table(
    "alerts", metadata,
    sa.Column("fingerprint", sa.String, primary_key=True),
    sa.Column("rule", sa.String, nullable=False),
    sa.Column("series", sa.String, nullable=False),
    sa.Column("labels", sa.Text, nullable=False),
    sa.Column("severity", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("episode", sa.Integer, nullable=False),
    sa.Column("period", sa.String, nullable=False),
    sa.Column("since_period", sa.String, nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("reference", sa.Float),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("active_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True)),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event_period", sa.String),
)
outbox = sa.Table(
    "outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String, nullable=False),
    sa.Column("episode", sa.Integer, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False, default=0),  # reminders: 1, 2, ...
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("done_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("fingerprint", "episode", "status", "seq", name="one_notification_per_change"),
)
deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id"), primary_key=True),
    sa.Column("receiver", sa.String, primary_key=True),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("outcome", sa.String),  # sent, failed, silenced, inhibited
)
sa.Index("outbox_pending", outbox.c.done_at)
silences = sa.Table(
    "silences", metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("matchers", sa.Text, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
receiver_state = sa.Table(
    "receiver_state", metadata,
    sa.Column("receiver", sa.String, primary_key=True),
    sa.Column("fingerprint", sa.String, primary_key=True),
    sa.Column("episode", sa.Integer, primary_key=True),
    sa.Column("channel", sa.String, nullable=False),
    sa.Column("ts", sa.String, nullable=False),
    sa.Column("progress", sa.String, nullable=False),
    sa.Column("parent", sa.Text, nullable=False),
)
# Revision 0002: an acknowledgement is a silence that ends when its alert episode resolves;
# seen_requests keeps the ids of interactive requests (Slack button clicks) already acted on,
# so a replayed request changes nothing twice, across restarts and processes.
acknowledgements = sa.Table(
    "acknowledgements", metadata,
    sa.Column("silence_id", sa.String, primary_key=True),
    sa.Column("fingerprint", sa.String, nullable=False),
    sa.Column("episode", sa.Integer, nullable=False),
)
sa.Index("acknowledgements_by_episode", acknowledgements.c.fingerprint, acknowledgements.c.episode)
seen_requests = sa.Table(
    "seen_requests", metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("seen_requests_by_time", seen_requests.c.seen_at)
REVISION_0002_TABLES = ("acknowledgements", "seen_requests")
# Revision 0003: the active replica's lease (monitor/store/lease.py): one row, `name` "active"
lease = sa.Table(
    "lease", metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("holder", sa.String, nullable=False),
    sa.Column("epoch", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),  # unix seconds by the database's clock
    sa.Column("renewed_at", sa.Float, nullable=False),
)
# Revision 0004: what an alert's messages said along its rule's hierarchy, as computed when it
# was evaluated: a parent's contributors (`drivers`, JSON) and a child's watched parent. Kept
# so that a revision arriving later does not change what the alert is shown to have said.
alert_drivers = sa.Table(
    "alert_drivers", metadata,
    sa.Column("fingerprint", sa.String, primary_key=True),
    sa.Column("episode", sa.Integer, nullable=False),
    sa.Column("period", sa.String, nullable=False),
    sa.Column("parent", sa.String),
    sa.Column("drivers", sa.Text),
)
REVISION_0004_TABLES = ("alert_drivers",)
