"""python -m costlab.zoo: regenerate compiled.json from the YAML specs."""

from . import main

main()
