"""Architecture budgets: limits on MACs, params and activations, per model and per block.

Configured in ``pyproject.toml`` under ``[[tool.costlab.budget]]`` or in ``costlab.toml`` under
``[[budget]]``; each entry names a SOURCE and its limits, SI strings ('1.5G') or exact integers:

    [[tool.costlab.budget]]
    source = "googlenet"
    macs = "1.6G"
    params = "7M"
    [tool.costlab.budget.blocks]
    "inception_*" = { macs = "200M" }
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .errors import CostlabError
from .numbers import format_int, format_si, parse_si

BLOCK_LIMITS = ("macs", "params", "activations")
TRAINING_LIMITS = ("train_macs", "memory")  # a training step's MACs and its peak bytes (costlab.training), model totals only
LIMITS = (*BLOCK_LIMITS, *TRAINING_LIMITS)
ENTRY_KEYS = ("name", "source", "input", "batch", "mode", "blocks", "coverage", *LIMITS)


class ConfigError(CostlabError):
    """A budget configuration problem, naming the file and the key."""


@dataclass(frozen=True)
class Limit:
    """One limit: which model, which block pattern ('' for the whole model), which quantity, the maximum."""

    model: str
    pattern: str
    quantity: str
    maximum: int
    line: int  # 1-based line of the limit in the config file (0 when unknown)


@dataclass(frozen=True)
class Budget:
    """One model's budget entry."""

    name: str
    source: str
    input: Optional[str]
    batch: int
    mode: str
    limits: Tuple[Limit, ...]
    folder: str = ""  # the config file's folder: a relative spec path is relative to it


@dataclass(frozen=True)
class Outcome:
    """A limit checked: the measured value and whether it holds."""

    limit: Limit
    block: str
    measured: int

    @property
    def ok(self) -> bool:
        if self.limit.quantity == "coverage":  # a minimum, in basis points (analysis.Coverage)
            return self.measured >= self.limit.maximum
        return self.measured <= self.limit.maximum

    @property
    def headroom(self) -> int:
        return self.limit.maximum - self.measured

    def describe(self) -> str:
        """'googlenet: MACs 1,582,671,872 exceed the limit 1,500,000,000 (1.5G) by 82,671,872 (5.5%)'."""
        what = f"{self.limit.model}{' ' + self.block if self.block else ''}: {self.limit.quantity}"
        if self.limit.quantity == "coverage":
            return (f"{what} {self.measured / 100:g}% of ops counted, {'meets' if self.ok else 'below'} the required "
                    f"{self.limit.maximum / 100:g}%")
        if self.ok:
            return f"{what} {format_int(self.measured)} within {format_si(self.limit.maximum)} ({format_si(self.headroom)} headroom)"
        over = -self.headroom
        share = f" ({100 * over / self.limit.maximum:.1f}%)" if self.limit.maximum else ""
        return (f"{what} {format_int(self.measured)} exceeds the limit {format_int(self.limit.maximum)} "
                f"({format_si(self.limit.maximum)}) by {format_int(over)}{share}")


@dataclass
class _Locator:
    """Finds the line of a key in a TOML file, section by section (tomllib keeps no positions)."""

    lines: List[str]
    header: str
    sections: List[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        pattern = re.compile(r"^\s*\[\[\s*" + re.escape(self.header) + r"\s*\]\]")
        self.sections = [i for i, line in enumerate(self.lines) if pattern.match(line)]

    def line_of(self, index: int, key: str) -> int:
        if index >= len(self.sections):
            return 0
        start = self.sections[index]
        end = self.sections[index + 1] if index + 1 < len(self.sections) else len(self.lines)
        quoted = re.compile(r'^\s*(["\']?)' + re.escape(key) + r'\1\s*=')
        for i in range(start, end):
            if quoted.match(self.lines[i]) or (f'"{key}"' in self.lines[i] and "=" in self.lines[i]):
                return i + 1
        return start + 1


def _limit_value(value: Any, where: str) -> int:
    try:
        if where.endswith(".memory"):
            from .numbers import parse_bytes

            return parse_bytes(value)
        result = parse_si(value)
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None
    if result < 0:
        raise ConfigError(f"{where}: a limit cannot be negative")
    return result


def read_config(path: Path) -> List[Budget]:
    """Budgets from a pyproject.toml ([tool.costlab]) or costlab.toml file (read with the data limits)."""
    from .dataload import loads, read_text

    try:
        text = read_text(path, "config")
        data = loads(text, "toml", str(path))
    except CostlabError as e:
        raise ConfigError(str(e)) from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        section, prefix = tool.get("costlab") if isinstance(tool, dict) else None, "tool.costlab"
        if section is None:
            raise ConfigError(f"{path}: no [tool.costlab] section")
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: tool.costlab: expected a table")
    else:
        section, prefix = data, ""
    header = f"{prefix}.budget" if prefix else "budget"
    for key in section:
        if key != "budget":
            raise ConfigError(f"{path}: {prefix + '.' if prefix else ''}{key}: unknown key (allowed: budget)")
    entries = section.get("budget", [])
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: {header}: expected one or more [[{header}]] tables")
    locator = _Locator(text.splitlines(), header)
    budgets = [_budget(entry, i, f"{path}: {header}[{i + 1}]", locator) for i, entry in enumerate(entries)]
    seen: Dict[str, int] = {}
    for i, b in enumerate(budgets, 1):
        if b.name in seen:
            raise ConfigError(f"{path}: {header}[{i}].name: {b.name!r} is already the name of {header}[{seen[b.name]}] "
                              "(give each budget its own name)")
        seen[b.name] = i
    folder = str(path.parent)
    return [replace(b, folder=folder) for b in budgets]


def _budget(entry: Any, index: int, where: str, locator: _Locator) -> Budget:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table")
    for key in entry:
        if key not in ENTRY_KEYS:
            raise ConfigError(f"{where}.{key}: unknown key (allowed: {', '.join(ENTRY_KEYS)})")
    source = entry.get("source")
    if not isinstance(source, str) or not source:
        raise ConfigError(f"{where}.source: required: a built-in model, a spec file or module:factory")
    name = entry.get("name", source)
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}.name: must be a non-empty string, got {name!r}")
    mode = entry.get("mode", "infer")
    if mode not in ("infer", "train"):
        raise ConfigError(f"{where}.mode: must be 'infer' or 'train', got {mode!r}")
    batch = entry.get("batch", 1)
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ConfigError(f"{where}.batch: must be a positive integer, got {batch!r}")
    shape = entry.get("input")
    if shape is not None:
        from .shapes import parse_input

        if not isinstance(shape, (str, int)) or isinstance(shape, bool):
            raise ConfigError(f"{where}.input: expected a shape like \"3x224x224\", got {shape!r}")
        shape = str(shape)
        try:
            dims = parse_input(shape)
        except ValueError as e:
            raise ConfigError(f"{where}.input: {e}") from None
        if not all(isinstance(d, int) for d in dims):
            raise ConfigError(f"{where}.input: a budget needs numbers, got {shape!r} (names such as H make costs "
                              "formulas, which no limit can hold)")
    limits = [Limit(name, "", q, _limit_value(entry[q], f"{where}.{q}"), locator.line_of(index, q)) for q in LIMITS if q in entry]
    blocks = entry.get("blocks", {})
    if not isinstance(blocks, dict):
        raise ConfigError(f"{where}.blocks: expected a table of name patterns")
    for pattern, block_limits in blocks.items():
        spot = f"{where}.blocks.{pattern}"
        if not isinstance(block_limits, dict) or not block_limits:
            raise ConfigError(f"{spot}: expected a table like {{ macs = \"200M\" }}")
        for q, value in block_limits.items():
            if q not in BLOCK_LIMITS:
                raise ConfigError(f"{spot}.{q}: unknown key (allowed: {', '.join(BLOCK_LIMITS)})")
            limits.append(Limit(name, pattern, q, _limit_value(value, f"{spot}.{q}"), locator.line_of(index, pattern)))
    if "coverage" in entry:
        from .analysis import parse_coverage

        try:
            limits.append(Limit(name, "", "coverage", parse_coverage(entry["coverage"]), locator.line_of(index, "coverage")))
        except ValueError as e:
            raise ConfigError(f"{where}.coverage: {e}") from None
    if not limits:
        raise ConfigError(f"{where}: no limit given (set macs, params, activations or blocks)")
    return Budget(name, source, shape, batch, mode, tuple(limits))


def evaluate(budget: Budget, analysis: Any) -> List[Outcome]:
    """Every limit of ``budget`` against an analysis; a block pattern checks each block it matches."""
    outcomes = []
    totals = analysis.total()
    training: Any = None
    for limit in budget.limits:
        if limit.quantity == "coverage":
            outcomes.append(Outcome(limit, "", analysis.coverage.basis_points))
            continue
        if limit.quantity in TRAINING_LIMITS:
            if training is None:
                from .shapes import parse_input
                from .training.report import train_source

                training = train_source(budget.source, parse_input(budget.input) if budget.input else None, budget.batch)
            measured = training.step.total("total") if limit.quantity == "train_macs" else training.memory.peak.bytes
            outcomes.append(Outcome(limit, "", int(measured)))
            continue
        if not limit.pattern:
            outcomes.append(Outcome(limit, "", int(getattr(totals, limit.quantity))))
            continue
        depth = limit.pattern.count(".") + 1
        blocks = [r for r in analysis.by_depth(depth).rows if fnmatch.fnmatchcase(r.name, limit.pattern)]
        if not blocks:
            raise ConfigError(f"{budget.name}: block pattern {limit.pattern!r} matches no block of {budget.source}")
        outcomes += [Outcome(limit, r.name, int(getattr(r, limit.quantity))) for r in blocks]
    return outcomes


# Model references a config file may name without --allow-code: factories looked up by name in a
# library's model registry (torchvision.models.list_models(), timm.is_model()) before anything runs.
REGISTRY_REFERENCES = ("torchvision", "timm")


class CodeRefused(ConfigError):
    """A config file names Python code (package.module:factory) and the user did not allow it."""


def code_reference(budget: Budget) -> bool:
    """True when the budget's source would import and call arbitrary Python code, or make a registry
    model load something: a text keyword argument could name a file or URL (timm's checkpoint_path
    unpickles a file) and ``pretrained`` downloads weights; numbers, booleans and none are plain."""
    from .sources import is_reference

    if not is_reference(_source_path(budget)):
        return False
    target, _, query = budget.source.partition("?")
    if target.partition(":")[0] not in REGISTRY_REFERENCES:
        return True
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        if key == "pretrained" and value.lower() not in ("false", "0", "none"):
            return True
        if not _plain_value(value):
            return True
    return False


def _plain_value(text: str) -> bool:
    """A keyword value that is a number, a boolean or none (as reference.py parses them)."""
    if text.lower() in ("true", "false", "none", "null"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True


def refuse_code(budgets: List[Budget], config: Path) -> None:
    """The policy on code references in config files: refused unless the user passed --allow-code."""
    for budget in budgets:
        if code_reference(budget):
            module = budget.source.partition(":")[0]
            what = (f"passes text or pretrained= to {module!r} (files, downloads)" if module in REGISTRY_REFERENCES
                    else f"would import and run Python code from {module!r}")
            raise CodeRefused(
                f"{config}: budget {budget.name!r}: source {budget.source!r} {what}; costlab check runs code named "
                "in a config file only with --allow-code (built-in models, spec files, torchvision: and timm: "
                "models with plain number/boolean arguments need no flag)")


def _source_path(budget: Budget) -> str:
    """The budget's source, a relative spec path taken relative to the config file's folder."""
    from . import zoo
    from .sources import SPEC_SUFFIXES

    source = budget.source
    if not budget.folder or zoo.has(source) or Path(source).is_absolute():
        return source
    beside = Path(budget.folder) / source
    if Path(source).suffix.lower() in SPEC_SUFFIXES or beside.is_file():
        return str(beside)
    return source


def analyze_budget(budget: Budget) -> Any:
    """The analysis a budget entry describes."""
    from .analysis import analyze
    from .shapes import parse_input
    from .sources import load_source

    shape = parse_input(budget.input) if budget.input else None
    graph = load_source(_source_path(budget), shape, budget.batch, budget.mode)
    return analyze(graph, shape, budget.batch, budget.mode)


def find_config(start: Path) -> Path:
    """costlab.toml, else a pyproject.toml with [tool.costlab], in ``start`` or a parent folder."""
    for folder in [start, *start.parents]:
        if (folder / "costlab.toml").is_file():
            return folder / "costlab.toml"
        pyproject = folder / "pyproject.toml"
        try:
            if pyproject.is_file() and b"[tool.costlab" in pyproject.read_bytes():
                return pyproject
        except OSError as e:
            raise ConfigError(f"{pyproject}: cannot read: {e.strerror or e}") from None
    raise ConfigError(f"no costlab.toml or pyproject.toml with [tool.costlab] in {start} or its parents (use --config)")


def run_checks(config: Path, allow_code: bool = False, analyses: Optional[List[Any]] = None) -> List[Outcome]:
    """Read a config and check every budget in it; code references need ``allow_code`` (checked first).
    Each analysis is appended to ``analyses`` when given."""
    budgets = read_config(config)
    if not allow_code:
        refuse_code(budgets, config)
    outcomes: List[Outcome] = []
    for budget in budgets:
        analysis = analyze_budget(budget)
        if analyses is not None:
            analyses.append(analysis)
        outcomes += evaluate(budget, analysis)
    return outcomes


def outcome_dict(o: Outcome) -> Dict[str, Any]:
    """JSON form of an outcome."""
    return {"model": o.limit.model, "block": o.block, "pattern": o.limit.pattern, "quantity": o.limit.quantity,
            "measured": o.measured, "limit": o.limit.maximum, "headroom": o.headroom, "ok": o.ok, "line": o.limit.line}
