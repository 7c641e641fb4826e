#!/usr/bin/env python3
"""Generate the docs site's derived pages while ``mkdocs build`` runs (mkdocs-gen-files runs this file).

Every page made here restates a source that lives elsewhere in the tree, so it is made at build time
and never committed (a committed copy would go stale whenever a plugin's README, a command's option
or the plugin API changes on another branch):

- ``porting.md``: the README's section "Porting from flytekit";
- ``plugins/<name>.md``: each plugin's README (``plugins/*/README.md``), with a ``SUMMARY.md`` that
  lists them for the navigation (mkdocs-literate-nav);
- ``reference/api/*.md``: one ``::: taskloom.extend.NAME`` per name of ``taskloom.extend._NAMES``,
  one page per group of that table, rendered from the docstrings by mkdocstrings;
- ``reference/cli.md``: every ``loom`` command and subcommand with its options, from the installed
  CLI (plugin commands come from the ``taskloom.commands`` entry points, so what is installed is
  what is documented).

The hook reference is the exception: ``docs/hooks.md`` is committed, written by
``dev/hooks_reference.py`` (a test checks it is current), because the README, ``taskloom.extend`` and
the plugin guide point readers at that file. Print the pages without building the site:

    python3 dev/docs_pages.py            # the list of generated pages
    python3 dev/docs_pages.py PAGE       # one of them
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import click

from taskloom import extend
from taskloom.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXTEND_SOURCE = ROOT / "kernel" / "taskloom" / "extend.py"
PORTING_HEADING = "## Porting from flytekit"


def porting_page() -> str:
    """The README's porting section as a page of its own."""
    text = README.read_text()
    start = text.index(PORTING_HEADING)
    following = text.find("\n## ", start + len(PORTING_HEADING))
    section = text[start + len(PORTING_HEADING) : following if following != -1 else len(text)]
    return (
        "# Porting from flytekit\n\n"
        "<!-- Generated from the README's section of the same name by dev/docs_pages.py: edit it there. -->\n"
        + section.rstrip()
        + "\n"
    )


def plugin_pages() -> dict[str, str]:
    """``plugins/<name>.md`` for every plugin with a README, and the ``SUMMARY.md`` that lists them."""
    pages: dict[str, str] = {}
    for readme in sorted(ROOT.glob("plugins/*/README.md")):
        name = readme.parent.name
        pages[f"plugins/{name}.md"] = (
            f"<!-- Generated from plugins/{name}/README.md by dev/docs_pages.py: edit it there. -->\n\n"
            + _relink(readme.read_text(), name)
        )
    index = [
        "# Plugins",
        "",
        "Every distribution below is a plugin found through the entry-point group `taskloom.plugins`, the",
        "standard ones included; each page is its README. A new plugin starts from `plugin-template/`",
        "(see [Writing a plugin](../writing-a-plugin.md)).",
        "",
        "| plugin | what it adds |",
        "| --- | --- |",
    ]
    for readme in sorted(ROOT.glob("plugins/*/README.md")):
        title, _, rest = readme.read_text().partition("\n\n")
        first_sentence = re.split(r"(?<=[.:])\s", " ".join(rest.split("\n\n")[0].split()), maxsplit=1)[0]
        index.append(f"| [{title.lstrip('# ')}]({readme.parent.name}.md) | {first_sentence.rstrip(':.')} |")
    summary = ["- [Overview](index.md)"] + [f"- [taskloom-{Path(page).stem}]({Path(page).name})" for page in pages]
    pages["plugins/index.md"] = "\n".join(index) + "\n"
    pages["plugins/SUMMARY.md"] = "\n".join(summary) + "\n"
    return pages


def _relink(text: str, name: str) -> str:
    """Rewrite a README's relative links so they resolve from the page's place in the site.

    A README links files of its plugin (``tests/test_x.py``) and of the tree (``../../docs/x.md``); in
    the site, pages of ``docs/`` are pages, and any other file is linked on its own path in the tree,
    written as code since the site does not carry source files.
    """

    def replace(match: re.Match[str]) -> str:
        label, target = match.group(1), match.group(2)
        if re.match(r"[a-z]+:|#", target):
            return match.group(0)
        resolved = (ROOT / "plugins" / name / target).resolve()
        try:
            inside = resolved.relative_to(ROOT / "docs")
        except ValueError:
            return f"{label} (`{resolved.relative_to(ROOT)}`)"
        return f"[{label}](../{inside.as_posix()})"

    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", replace, text)


def api_groups() -> list[tuple[str, list[str]]]:
    """The groups of ``taskloom.extend._NAMES`` as its source writes them: (comment, names in order)."""
    module = ast.parse(EXTEND_SOURCE.read_text())
    table = next(
        node
        for node in module.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "_NAMES"
    )
    assert isinstance(table.value, ast.Dict)
    lines = EXTEND_SOURCE.read_text().splitlines()
    groups: list[tuple[str, list[str]]] = []
    for key in table.value.keys:
        assert isinstance(key, ast.Constant)
        # The group is the comment line closest above the key (the table's only comments head groups).
        above = next(line for line in reversed(lines[table.lineno : key.lineno - 1]) if line.strip().startswith("#"))
        title = above.strip().lstrip("# ")
        if not groups or groups[-1][0] != title:
            groups.append((title, []))
        groups[-1][1].append(key.value)
    return groups


def _short_title(title: str) -> str:
    """A group's title up to its first parenthesis, colon or comma: "Workflows, nodes..." -> "Workflows"."""
    return re.split(r"[(:,]", title)[0].strip()


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _short_title(title).lower()).strip("-")


def api_pages() -> dict[str, str]:
    """One page per group of the plugin API, one mkdocstrings directive per name."""
    groups = api_groups()
    listed = [name for _, names in groups for name in names]
    missing = sorted(set(extend._NAMES) - set(listed))
    if missing:  # the groups are read from the source; the table is what the module serves
        raise RuntimeError(f"taskloom.extend: names {missing} are in _NAMES but in no group of its source")
    pages: dict[str, str] = {}
    index = [
        "# Plugin API (`taskloom.extend`)",
        "",
        "Generated from the docstrings of `taskloom.extend`'s names by dev/docs_pages.py and mkdocstrings.",
        "",
        "::: taskloom.extend",
        "    options:",
        "      members: [API_VERSION]",
        "      show_root_heading: false",
        "",
        "| group | names |",
        "| --- | --- |",
    ]
    summary = ["- [Overview](index.md)"]
    for title, names in groups:
        page = f"{_slug(title)}.md"
        index.append(f"| [{title}]({page}) | {', '.join(f'`{name}`' for name in names)} |")
        summary.append(f"- [{_short_title(title)}]({page})")
        body = [f"# {title}", ""]
        for name in names:
            body += [f"::: taskloom.extend.{name}", ""]
            if name in {"models", "context_manager"}:  # whole modules: their names, not every member's page
                body[-1:] = ["    options:", "      members: false", ""]
        pages[f"reference/api/{page}"] = "\n".join(body)
    pages["reference/api/index.md"] = "\n".join(index) + "\n"
    pages["reference/api/SUMMARY.md"] = "\n".join(summary) + "\n"
    return pages


def cli_page() -> str:
    """Every ``loom`` command and subcommand with its help and options, from the installed CLI."""
    lines = [
        "# CLI reference (`loom`)",
        "",
        "Generated from the installed `loom` command by dev/docs_pages.py: the commands of every plugin",
        "installed when the site was built (entry points `taskloom.commands`) are listed.",
        "",
    ]

    def describe(command: click.Command, path: list[str], parent: click.Context | None) -> None:
        # The command's own settings (``-h`` for help), and a fixed width: the page must not depend on
        # the terminal of whoever built the site.
        settings = {"terminal_width": 100, "max_content_width": 100, **command.context_settings}
        context = click.Context(command, info_name=path[-1], parent=parent, **settings)
        lines.extend([f"{'#' * min(len(path) + 1, 4)} `{' '.join(path)}`", "", "```text"])
        lines.extend(line.rstrip() for line in command.get_help(context).splitlines())
        lines.extend(["```", ""])
        if isinstance(command, click.Group):
            for name in command.list_commands(context):
                subcommand = command.get_command(context, name)
                if subcommand is not None and not subcommand.hidden:
                    describe(subcommand, [*path, name], context)

    describe(cli, ["loom"], None)
    return "\n".join(lines).rstrip() + "\n"


def pages() -> dict[str, str]:
    """Every generated page, by its path in the site."""
    return {"porting.md": porting_page(), **plugin_pages(), **api_pages(), "reference/cli.md": cli_page()}


def write_with_gen_files() -> None:
    """Hand the pages to mkdocs-gen-files (this file runs inside ``mkdocs build``)."""
    import mkdocs_gen_files  # only present in the docs tools; the module is also run on its own

    for path, text in pages().items():
        with mkdocs_gen_files.open(path, "w") as page:
            page.write(text)
        if not path.endswith("SUMMARY.md"):
            source = _source_of(path)
            if source is not None:
                mkdocs_gen_files.set_edit_path(path, source)


def _source_of(path: str) -> str | None:
    if path == "porting.md":
        return "../README.md"
    if path.startswith("plugins/"):
        return f"../plugins/{Path(path).stem}/README.md"
    return None


if __name__ == "__main__":
    generated = pages()
    if sys.argv[1:]:
        sys.stdout.write(generated[sys.argv[1]])
    else:
        print("\n".join(generated))
elif __name__ == "<run_path>":  # mkdocs-gen-files runs its scripts with runpy.run_path; tests import this file
    write_with_gen_files()
