"""`cockpit serve`: the cockpit, or its read-only board, in a browser.

- `server.py`: the web server (aiohttp, through textual-serve): access, sessions, idle
  sessions, the page. Only this module imports aiohttp and textual-serve.
- `session.py`: what one browser session runs (`python -m cockpit.web.session`): the
  cockpit, the drill, or the board, as a Textual app on textual's web driver.
- `apps.py`: the served apps (the cockpit as served, the board).
"""
