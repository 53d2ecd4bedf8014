"""The Discord adapter: slash commands, buttons and embeds over the same core."""
