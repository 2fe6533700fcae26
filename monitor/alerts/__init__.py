"""Alerts: the lifecycle (a pure state machine counted in periods), the alert book that
applies evaluations to it, the rows it persists, and the notifications it queues."""
