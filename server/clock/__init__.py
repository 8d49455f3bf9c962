"""The clock process (process.py: one tick a minute) and its Web Push adapter (push.py)."""
