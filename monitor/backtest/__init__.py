"""`tradewatch backtest`: replay history release by release through the real rule, lifecycle
and routing code, so a rule can be judged before it is deployed.

Modules: `history` (what data there is, with vintages), `timeline` (what was visible when),
`replay` (rules and the alert lifecycle over the timeline), `summary` (rates and scores),
`sweep` (`--set` overrides), `report` and `charts` (output), `command` (the CLI).
Nothing is imported here, so `tradewatch --help` stays fast.
"""
