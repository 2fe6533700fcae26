"""Delivery: routing, silences and inhibition, grouping, rendering, and the receivers
(Slack, Slack webhooks, webhooks, Alertmanager, the console)."""
