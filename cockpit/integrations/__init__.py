"""Clients for the remote systems cockpit talks to: Slack, Jira Cloud, Statuspage.

* `http.ApiClient`: the shared HTTP machinery (deadlines, retries, rate limits, safe errors)
* `slack.SlackClient`, `jira.JiraClient`, `statuspage.StatuspageClient`: one per service
* `adf`: Atlassian Document Format, Jira's rich text
* `errors.RemoteError`: every remote failure, in plain words, never holding a token

Import the submodules directly; this package imports nothing itself, so that code which
only needs settings (e.g. `cockpit --help`) does not pay for httpx.
"""
