"""The model's prompt templates (`*.txt`), shipped in the package; `bot.prompts` loads them."""
