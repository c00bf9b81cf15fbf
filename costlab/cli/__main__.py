"""``python -m costlab.cli``."""

from . import main

main()
