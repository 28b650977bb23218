"""The functional core of loanwatch: events, state, rules, tiers and models (pure Python)."""
