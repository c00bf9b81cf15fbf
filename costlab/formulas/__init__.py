"""Cost formulas, one module per op family; importing this package registers them all.

The modules are discovered, not listed: a new family is a new module here.
"""

import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "text":
        importlib.import_module(f"{__name__}.{_module}")
