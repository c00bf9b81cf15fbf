"""python -m costlab.zoo: regenerate compiled/ (the models pre-parsed) from the YAML specs."""

from . import main

main()
