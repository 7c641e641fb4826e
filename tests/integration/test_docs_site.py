"""The docs site builds with warnings as errors, lists every plugin API name, every command and every
plugin, and every Python example on its pages runs."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest

from taskloom import extend, hookspecs
from taskloom.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```$", re.DOTALL | re.MULTILINE)
# A block that cannot run here (it needs a Flyte cluster) says so in its title, which the site shows.
NOT_RUN = 'title="not run"'


def dev_module(name: str) -> ModuleType:
    """A module of dev/, imported (dev/docs_pages.py is not run as mkdocs-gen-files runs it)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "dev" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def docs_pages_module() -> ModuleType:
    return dev_module("docs_pages")


def site_pages() -> dict[str, str]:
    """Every page of the site by its path in it: the sources under docs/ and the generated pages."""
    pages = {
        path.relative_to(DOCS).as_posix(): path.read_text()
        for path in sorted(DOCS.rglob("*.md"))
        if path.name != "README.md"
    }
    pages.update(docs_pages_module().pages())
    return pages


# --- getting started -------------------------------------------------------------------------


def readme_set_up_commands() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Set up\n", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    ") and line.strip()]


def test_the_getting_started_page_shows_the_readme_s_two_set_up_commands():
    page = (DOCS / "getting-started.md").read_text()
    section = page.split("## Set up\n", 1)[1].split("\n## ", 1)[0]
    commands = [match["body"].strip() for match in FENCE.finditer(section) if match["info"].strip() == "sh"]
    assert len(readme_set_up_commands()) == 2
    assert commands == readme_set_up_commands()


# --- generated pages ---------------------------------------------------------------------------


def test_the_plugin_api_reference_has_one_directive_per_name_of_taskloom_extend():
    pages = docs_pages_module().api_pages()
    directives = re.findall(r"^::: taskloom\.extend\.(\w+)$", "\n".join(pages.values()), re.MULTILINE)
    assert sorted(directives) == sorted(extend._NAMES)
    assert "members: [API_VERSION]" in pages["reference/api/index.md"]


def test_a_name_in_no_group_of_taskloom_extend_s_table_stops_the_generation(monkeypatch):
    module = docs_pages_module()
    monkeypatch.setitem(extend._NAMES, "NotInTheSource", "taskloom.core.base_task")
    with pytest.raises(RuntimeError, match="NotInTheSource"):
        module.api_pages()


def cli_commands(command: click.Command, path: tuple[str, ...], parent: click.Context | None = None):
    context = click.Context(command, info_name=path[-1], parent=parent)
    yield " ".join(path)
    if isinstance(command, click.Group):
        for name in command.list_commands(context):
            subcommand = command.get_command(context, name)
            assert subcommand is not None, name
            yield from cli_commands(subcommand, (*path, name), context)


def test_the_cli_reference_has_every_installed_command_and_its_options():
    page = docs_pages_module().cli_page()
    commands = list(cli_commands(cli, ("loom",)))
    # The standard plugins' commands are among them: they come from entry points, not from the kernel.
    assert {"loom run", "loom plugins", "loom package", "loom cache list", "loom executions show"} <= set(commands)
    for command in commands:
        assert f"`{command}`" in page, command
    assert "--raw-output-prefix" in page and "--resume" in page


def test_every_plugin_readme_is_a_page_with_its_text():
    pages = docs_pages_module().plugin_pages()
    readmes = sorted(ROOT.glob("plugins/*/README.md"))
    assert readmes
    for readme in readmes:
        page = pages[f"plugins/{readme.parent.name}.md"]
        first_paragraph = readme.read_text().split("\n\n")[1]
        assert first_paragraph.split("\n")[0] in page
        assert f"taskloom-{readme.parent.name}" in pages["plugins/SUMMARY.md"]


def test_the_porting_page_is_the_readme_s_porting_section():
    page = docs_pages_module().porting_page()
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Porting from flytekit\n", 1)[1].split("\n## ")[0].splitlines()
    assert all(line in page for line in table)
    assert "| `map_task` | same |" in page


def test_sphinx_roles_in_docstrings_become_the_code_sphinx_would_show():
    plain = dev_module("hooks_reference").plain_roles
    assert plain("Raises :class:`~taskloom.exceptions.user.UnsupportedTypeError`.") == "Raises `UnsupportedTypeError`."
    assert plain("see :meth:`to_literal` and :mod:`taskloom.extend`") == "see `to_literal` and `taskloom.extend`"
    assert plain(":func:`the hook <taskloom.hookspecs.taskloom_executor>`") == "`the hook`"
    assert plain("``code`` stays") == "``code`` stays"


# --- the build -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built with ``mkdocs build --strict``: any warning (a broken link, a name mkdocstrings
    cannot find, a page left out of the navigation) fails the build."""
    directory = tmp_path_factory.mktemp("site")
    environment = {
        **os.environ,
        "XDG_CACHE_HOME": str(directory.parent / "cache"),
        # Banners about MkDocs' future (from Material and a dependency), not about this site.
        "NO_MKDOCS_2_WARNING": "1",
        "DISABLE_MKDOCS_2_WARNING": "true",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(directory)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-6000:]
    return directory


@pytest.mark.slow  # the build takes 6-10 s here
def test_the_site_builds_with_warnings_as_errors_and_renders_every_reference(site):
    api = "".join(path.read_text() for path in (site / "reference" / "api").rglob("*.html"))
    for name in extend._NAMES:
        # mkdocstrings renders each name under its anchor, with the docstring's first words.
        assert f'id="taskloom.extend.{name}"' in api, name
    # The docstrings' Sphinx roles are rewritten by dev/docs_rst_roles.py, which mkdocs.yml loads.
    assert "Raises <code>UnsupportedTypeError</code> when none applies" in api
    assert ":class:`" not in api and ":meth:`" not in api
    hooks = (site / "hooks" / "index.html").read_text()
    assert all(name in hooks for name in vars(hookspecs) if name.startswith("taskloom_"))
    assert ":class:`" not in hooks and "<code>TypeTransformer</code>" in hooks
    cli_page = (site / "reference" / "cli" / "index.html").read_text()
    assert "loom executions prune" in cli_page
    for readme in ROOT.glob("plugins/*/README.md"):
        assert (site / "plugins" / readme.parent.name / "index.html").is_file(), readme
    assert (site / "porting" / "index.html").is_file()


# --- examples ------------------------------------------------------------------------------------


def examples(page: str) -> tuple[dict[str, str], str]:
    """A page's Python examples: the files it shows (blocks starting ``# file: PATH``), and one script
    holding every other block at the line it has on the page, so an error names the page's line."""
    files: dict[str, str] = {}
    script = [""] * (page.count("\n") + 1)
    for match in FENCE.finditer(page):
        info = match["info"].strip()
        if not re.match(r"(python|py)\b", info) or NOT_RUN in info:
            continue
        body = "\n".join(line[len(match["indent"]) :] for line in match["body"].splitlines())
        first, _, rest = body.partition("\n")
        if first.startswith("# file: "):
            files[first.removeprefix("# file: ").strip()] = rest
            continue
        start = page.count("\n", 0, match.start("body"))
        script[start : start + body.count("\n") + 1] = body.splitlines()
    return files, "\n".join(script)


def runnable_pages() -> list[str]:
    return [path for path, text in site_pages().items() if examples(text)[1].strip()]


@pytest.mark.parametrize("path", runnable_pages())
def test_every_python_example_of_the_page_runs(path, tmp_path):
    files, script = examples(site_pages()[path])
    for relative, source in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(source)
    # Named after the page, lines numbered as on the page: a traceback points at the failing line.
    program = tmp_path / (re.sub(r"\W", "_", path.removesuffix(".md")) + ".py")
    program.write_text(script)
    environment = {
        **os.environ,
        "XDG_CACHE_HOME": str(tmp_path / ".cache"),
        "TASKLOOM_DATA_DIR": str(tmp_path / ".data"),
    }
    done = subprocess.run(
        [sys.executable, program.name], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{path}: an example fails\n{done.stderr[-4000:]}"


def test_a_page_whose_example_fails_is_caught(tmp_path):
    page = "# A page\n\n```python\nx = 1\n```\n\ntext\n\n```python\nassert x == 2, 'the page is wrong'\n```\n"
    _, script = examples(page)
    assert script.splitlines()[9] == "assert x == 2, 'the page is wrong'"
    program = tmp_path / "page.py"
    program.write_text(script)
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True)
    assert done.returncode != 0 and "line 10" in done.stderr


def test_file_blocks_are_written_and_not_run_blocks_are_left_out():
    page = '```python\n# file: pkg/mod.py\nVALUE = 1\n```\n```python title="not run"\nconnect()\n```\n'
    files, script = examples(page)
    assert files == {"pkg/mod.py": "VALUE = 1"}
    assert script.strip() == ""
