"""Shell tasks: one writes a file from its input, the next reads it; the outputs are files."""

import os

from flytekit import kwtypes, task, workflow
from flytekit.extras.tasks.shell import OutputLocation, ShellTask
from flytekit.types.file import FlyteFile

write_greeting = ShellTask(
    name="write_greeting",
    debug=False,
    script="""
    set -e
    echo "hello {inputs.name}" > {outputs.greeting}
    """,
    inputs=kwtypes(name=str, out_dir=str),
    output_locs=[OutputLocation(var="greeting", var_type=FlyteFile, location="{inputs.out_dir}/greeting.txt")],
)

shout = ShellTask(
    name="shout",
    debug=False,
    script="""
    set -e
    tr a-z A-Z < {inputs.source} > {outputs.loud}
    """,
    inputs=kwtypes(source=FlyteFile),
    output_locs=[OutputLocation(var="loud", var_type=FlyteFile, location="{inputs.source}.loud")],
)


@task
def read(f: FlyteFile) -> str:
    with open(f) as handle:
        return handle.read().strip()


@workflow
def shell_wf(name: str, out_dir: str) -> str:
    greeting = write_greeting(name=name, out_dir=out_dir)
    return read(f=shout(source=greeting))


if __name__ == "__main__":
    print(shell_wf(name="ada", out_dir=os.environ.get("PORTED_TMP", "/tmp")))
