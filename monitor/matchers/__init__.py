"""Label matchers in Alertmanager's syntax and semantics, shared by routes, inhibition,
silences and rule selectors: `name=value`, `name!=value`, `name=~regex`, `name!~regex`,
values optionally double-quoted with escapes, RE2 regexes anchored at both ends."""

from monitor.matchers.model import LABEL_NAME, MATCHER_NAME, Matcher, MatcherError, Op, matches_all
from monitor.matchers.parse import parse_matcher, parse_matchers

__all__ = ["LABEL_NAME", "MATCHER_NAME", "Matcher", "MatcherError", "Op", "matches_all", "parse_matcher",
           "parse_matchers"]
