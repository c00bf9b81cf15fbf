"""``python -m costlab.formulas``: regenerate _index.py from the registrations."""

from pathlib import Path

from . import index_source

path = Path(__file__).with_name("_index.py")
path.write_text(index_source(), encoding="utf-8")
print(f"wrote {path}")
