"""The Telegram adapter: native quiz polls and buttons over the same conversation core."""
