"""Annotation and link templates are checked when the config loads, with the file and line."""

from __future__ import annotations

from pathlib import Path

from monitor.config import load_config
from monitor.config.templates import render_template, template_problem
from tests.monitor.config.support import SOURCE, errors, write

RULES = SOURCE + """
rules:
  - name: decline
    detector: {kind: threshold, direction: below, threshold: -5}
    annotations:
      summary: "{{ labels.partner }} below {{ threshold }}"
      runbook_url: "https://wiki.example/{{ rule }}"
      owner: "{{ nonsense }}"
      description: "{% if value < threshold %}broken"
notify:
  receivers:
    - name: desk
      slack:
        channel: "#trade"
        dashboard_url: "https://grafana.example/d/x?series={{ series | urlencode }}"
        source_url: "{{ labels.source_url"
  route: {receiver: desk}
"""


def test_a_bad_template_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, RULES)
    found = errors(path)
    assert len(found) == 3, found
    owner, description, source_url = found
    assert owner.startswith(f"{path}:13: rules[0].annotations.owner: template names unknown variable(s) "
                            "nonsense")
    assert description.startswith(f"{path}:14: rules[0].annotations.description: template does not parse")
    assert source_url.startswith(f"{path}:21: notify.receivers[0].slack.source_url: template does not parse")


def test_good_templates_load_and_render(tmp_path: Path) -> None:
    text = RULES.replace('      owner: "{{ nonsense }}"\n', "").replace(
        '      description: "{% if value < threshold %}broken"\n', "").replace(
        '        source_url: "{{ labels.source_url"\n', "")
    config = load_config(write(tmp_path, text), env={}).config
    assert config.rules[0].annotations["runbook_url"] == "https://wiki.example/{{ rule }}"
    assert config.notify.receivers[0].slack is not None
    assert render_template(config.rules[0].annotations["summary"],
                           {"labels": {"partner": "RUS"}, "threshold": -5}) == "RUS below -5"


def test_the_sandbox_refuses_unsafe_attributes() -> None:
    assert template_problem("{{ series.__class__.__mro__ }}") is None  # parses; refused when rendered
    try:
        render_template("{{ series.__class__.__mro__[1].__subclasses__() }}", {"series": "x"})
    except Exception as exc:  # jinja2.exceptions.SecurityError or UndefinedError
        assert "unsafe" in str(exc) or "undefined" in str(exc)
    else:
        raise AssertionError("the sandbox let a template reach object internals")
