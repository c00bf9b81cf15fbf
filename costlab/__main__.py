"""``python -m costlab``: the command line."""

from .cli import main

main()
