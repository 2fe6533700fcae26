"""The daemon's web pages under /ui/: alerts, silences, series and a live backtest to tune a
rule. Server-rendered HTML with a little vanilla JS and CSS shipped in the package."""

from monitor.ui.app import Ui

__all__ = ["Ui"]
