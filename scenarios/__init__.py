"""Scenarios: one module per fault (what it breaks, how it heals, what it expects).

labs.plan.scenario lists and loads them (with a user's own file of the same shape) as checked
`Scenario` records.
"""
