"""The imperative shell of loanwatch: Faust app, sinks, metrics, web views and CLI."""
