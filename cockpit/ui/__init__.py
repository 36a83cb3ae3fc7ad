"""Everything Textual lives under cockpit.ui."""

import os

# Paint up to 120 frames a second (Textual's default is 60): a tick or a key shows up to
# 8 ms sooner. Frames are only drawn when something changed, so an idle cockpit costs
# nothing more. Set before Textual is imported; an explicit TEXTUAL_FPS wins.
os.environ.setdefault("TEXTUAL_FPS", "120")
