"""The README's "Options per command" section and the CLI say the same: every option of every
command is listed under that command, with its choices, and nothing listed is missing from the CLI."""

import re
from pathlib import Path

import click
import pytest

from costlab.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def commands(group=main, path=("costlab",)):
    """(path, command) for the main group and every command under it (subgroups by their commands)."""
    yield path, group
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # commands load lazily: ask the group, not its dict
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from ((p, c) for p, c in commands(command, (*path, name)) if c is not command)
        else:
            yield (*path, name), command


def documented():
    """{'costlab analyze': {'--input': 'CxHxW', ...}} from the README's bullets: the first `...` span of each."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Options per command\n", 1)[1].split("\n## ", 1)[0]
    out = {}
    for block in section.split("\n### `")[1:]:
        heading, body = block.split("`", 1)
        name = " ".join(word for word in heading.split() if not word.isupper() and word != "SOURCES...")
        options = {}
        for span in re.findall(r"^- `([^`]+)`", body, flags=re.M):
            names, _, meta = span.partition(" ") if not span.startswith("-o,") else span.partition(" FILE")
            for option in re.findall(r"--[a-z][a-z0-9-]*", names):
                options[option] = meta.strip()
        out[name] = options
    return out


def in_cli(command):
    """{'--input': choices or None} for every long option (and --no-x secondary names) except --help."""
    out = {}
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        for option in (*param.opts, *param.secondary_opts):
            if option.startswith("--") and option != "--help":
                out[option] = list(param.type.choices) if isinstance(param.type, click.Choice) else None
    return out


DOCS = documented()


@pytest.mark.parametrize("path, command", list(commands()), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_readme_lists_every_option_of(path, command):
    name = " ".join(path)
    assert name in DOCS, f"README 'Options per command' has no section for {name}"
    cli, docs = in_cli(command), DOCS[name]
    assert sorted(docs) == sorted(cli), f"{name}: README lists {sorted(docs)}, the CLI has {sorted(cli)}"
    for option, choices in cli.items():
        if choices is not None:
            assert docs[option] == "|".join(choices), f"{name} {option}: README says {docs[option]!r}"


def test_readme_has_no_section_for_a_command_that_does_not_exist():
    assert sorted(DOCS) == sorted(" ".join(p) for p, _ in commands())
