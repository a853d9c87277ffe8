"""SLA monitoring: probe every deployed agent, publish `Up` and `ResponseTimeMs`,
alert on down agents, and judge months against the tiers' targets.

- `probe`: the gateway's health path over HTTP (short timeout, bounded
  concurrency), combined with the container's state from its Docker engine.
- `check`: one round over the fleet (probe, publish, alert, record events);
  `watch`: rounds on a schedule until SIGTERM/SIGINT.
- `publish`: PutMetricData in the fewest calls the API allows; SNS alerts.
- `report`: a month's uptime per tenant and agent, target, credit (the very
  function invoices use), breaches (periods below target) and the dashboard.
"""
