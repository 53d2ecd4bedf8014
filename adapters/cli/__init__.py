"""The terminal adapter: `studybot chat` and the maintenance commands."""
