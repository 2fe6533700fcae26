"""The Slack app manifest grants exactly the bot scopes the code needs: every Web API method
monitor/notify/slack.py calls is declared in METHOD_SCOPES (and nothing else is), and the
manifest's scopes are the set of those scopes. Its interactivity URL is the daemon's route."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from monitor.notify.slack import BOT_SCOPES, METHOD_SCOPES
from monitor.slack_events import PATH

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "deploy" / "slack" / "manifest.yaml"
# slack_sdk helpers that call several Web API methods
COMPOSITE = {"files_upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
FAMILIES = ("chat", "conversations", "files", "users", "reactions", "pins", "bookmarks", "views")


def called_methods() -> set[str]:
    """The Web API methods the Slack module calls through WebClient, by their dotted names."""
    source = (REPO / "monitor" / "notify" / "slack.py").read_text()
    found: set[str] = set()
    for name in re.findall(rf"\.((?:{'|'.join(FAMILIES)})_\w+)\b", source):
        found.update(COMPOSITE.get(name, (name.replace("_", ".", 1),)))
    return found


def test_every_method_called_is_declared_and_every_declared_one_called() -> None:
    assert called_methods() == set(METHOD_SCOPES)


def test_the_manifest_grants_exactly_the_scopes_declared() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(set(METHOD_SCOPES.values()))
    assert list(BOT_SCOPES) == sorted(set(METHOD_SCOPES.values()))
    assert "user" not in manifest["oauth_config"]["scopes"]


def test_interactivity_points_at_the_daemons_route() -> None:
    settings = yaml.safe_load(MANIFEST.read_text())["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith(PATH)


def test_no_other_module_calls_the_web_api_with_the_bot_token() -> None:
    callers = sorted(str(p.relative_to(REPO)) for p in (REPO / "monitor").rglob("*.py")
                     if re.search(r"\bWebClient\(token=", p.read_text()))
    assert callers == ["monitor/notify/slack.py"]
