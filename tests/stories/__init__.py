"""User stories written once and run against every adapter (tests/test_user_stories.py).

`student.py` says what a story may do and read; `on_terminal.py`, `on_telegram.py` and
`on_discord.py` do it the platform's own way: typed lines in the terminal chat, the real
python-telegram-bot Application against tests/fake_telegram.py, the real discord.py client
against tests/fake_discord.py.
"""
