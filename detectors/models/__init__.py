"""Online models: delayed outcomes, champion and challengers, cold start, drift, checkpoints.

Everything here is pure: time comes from events, and models learn only from outcomes that
have matured in event time.
"""
