"""`python -m bot` is the same as the `studybot` command."""

from adapters.cli.app import main

main()
