"""Platform adapters: translate platform updates into core events and render core replies."""
