"""The remote systems cockpit talks to: Slack, Jira Cloud, Statuspage.

* `registry.INTEGRATIONS`: every system, one `Integration` each (base.py): its name,
  label, config section, secret names, client factory, outbox handlers, doctor checks.
  Adding a system is one package plus one line there (see registry.py).
* `slack/`, `jira/`, `statuspage/`: one package per system: `client.py` (the client),
  `handlers.py` (its outbox operations), `checks.py` (its doctor checks),
  `integration.py` (its description)
* `outbox.RemoteActions` / `outbox.Clients`: the outbox's operations, dispatched to each
  system's handlers by the operation's prefix; the clients by system name
* `source.MessageSource`: what the live feed (`feed.FeedPoller`) reads; Slack's client is
  one. `socket.SlackSocket`: Slack's Socket Mode, new messages pushed
* `http.ApiClient`: the shared HTTP machinery (deadlines, retries, rate limits, safe errors)
* `adf`: Atlassian Document Format, Jira's rich text
* `errors.RemoteError`: every remote failure, in plain words, never holding a token

Import the submodules directly; this package imports nothing itself, and the systems'
packages load their clients only when asked, so that code which only needs settings or
the secret names (e.g. `cockpit --help`) does not pay for httpx. Nothing here imports
the store or the application layer.
"""
