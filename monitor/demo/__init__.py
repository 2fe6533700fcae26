"""The embedded demo data: real monthly trade series the demo config replays."""
