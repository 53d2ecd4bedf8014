"""The conversation core: platform-neutral events in, platform-neutral replies out."""
