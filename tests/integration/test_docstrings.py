"""Docstrings read as flytekit reads them (issue 21, point 5, sub-point 9): taskloom's own parser
gives what flytekit's (the ``docstring_parser`` library) gives, for reST, Google and NumPy styles.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from taskloom import task, workflow
from taskloom.core.docstring import Docstring

GOOGLE = """Add things up.

    A longer explanation
    over two lines.

    Args:
        a: the first number
        b (str): a label,
            continued here

    Returns:
        int: the total
    """

NUMPY = """Add things up.

    A longer explanation.

    Parameters
    ----------
    a : int
        the first number
    b : str
        a label

    Returns
    -------
    total : int
        the total
    """

REST = """Add things up.

    A longer explanation.

    :param a: the first number
    :param str b: a label
    :return: the total
    :rtype: int
    """

CORPUS = [
    GOOGLE,
    NUMPY,
    REST,
    None,
    "",
    "One line only.",
    "Short.\nLong right after, no blank line.\n\nAnd a second paragraph.",
    "Short.\n\n:param a: described\n    over two lines\n:type a: int\n:returns: something",
    "Short.\n\n:rtype: int",
    "Short.\n\n:param a: x\n:raises ValueError: when bad\n:meta private:",
    "Args:\n    a: only args",
    "Summary.\n\nArgs:\n    a (int, optional): the a. Defaults to 1.\n    b: the b\n\nRaises:\n    ValueError: bad\n",
    "Summary.\n\nReturns:\n    the total, without a type",
    "Summary.\n\nYields:\n    int: the items",
    "Summary.\n\nArgs:\n    a: x\nNot indented: ends the section\n\nReturns:\n    str: y",
    "Summary.\n\nArgs:\n    no colon here",
    "Summary.\n\nExamples:\n    >>> f(1)\n\nArgs:\n    a: first",
    "Summary.\n\nParameters\n----------\na\n    untyped\nb : list of int, optional\n    typed\n\nReturns\n-------\nint\n    unnamed",
    "Summary.\n\nReturns\n-------\nx : int\n    first\ny : str\n    second",
    "Summary.\n\nParameters\n----------\na : int\n\nNotes\n-----\nSomething noted.",
    "Summary.\n\n:param a: rest\n\nArgs:\n    b: google",
    "Summary.\n\nArgs:\n    a: one\n    b: two\n\n:param c: rest wins on count? no",
    "  Indented summary.\n\n  :param a: x\n",
]


def _ours(text):
    parsed = Docstring(text)
    return {
        "short": parsed.short_description,
        "long": parsed.long_description,
        "inputs": parsed.input_descriptions,
        "outputs": {str(name): description for name, description in parsed.output_descriptions.items()},
    }


def test_the_three_styles_give_flytekits_descriptions():
    # What flytekit 1.16 writes into the templates of these docstrings (read from pyflyte package).
    for text in (GOOGLE, NUMPY, REST):
        parsed = Docstring(text)
        assert parsed.short_description == "Add things up."
        assert parsed.input_descriptions["a"] == "the first number"
        assert list(parsed.output_descriptions.values()) == ["the total"]
    assert Docstring(GOOGLE).long_description == "A longer explanation\nover two lines."
    assert Docstring(GOOGLE).input_descriptions["b"] == "a label,\ncontinued here"
    assert Docstring(NUMPY).output_descriptions == {"total": "the total"}


def test_task_and_workflow_interfaces_carry_the_descriptions():
    @task
    def add(a: int, b: str = "x") -> int:
        """Add things up.

        Args:
            a: the first number
            b (str): a label

        Returns:
            int: the total
        """
        return a

    @task
    def bare(a: int) -> int:
        return a

    @workflow
    def documented(a: int = 1) -> int:
        """Run them.

        :param a: the input
        :return: the result
        """
        return bare(a=add(a=a))

    variables = add.interface.inputs.variables
    assert (variables["a"].description, variables["b"].description) == ("the first number", "a label")
    assert add.interface.outputs.variables["o0"].description == "the total"
    # Without a docstring the description is the variable's name, as flytekit writes it.
    assert bare.interface.inputs.variables["a"].description == "a"
    assert bare.interface.outputs.variables["o0"].description == "o0"
    assert documented.interface.inputs.variables["a"].description == "the input"
    assert documented.interface.outputs.variables["o0"].description == "the result"


_FLYTEKIT_PYTHON = Path(__file__).resolve().parents[2] / ".venvs" / "flytekit-1.16" / "bin" / "python"

_FLYTEKIT_SIDE = """
import json, sys
from flytekit.core.docstring import Docstring
out = []
for text in json.load(sys.stdin):
    parsed = Docstring(docstring=text) if text is not None else Docstring(callable_=lambda: None)
    out.append({
        "short": parsed.short_description,
        "long": parsed.long_description,
        "inputs": parsed.input_descriptions,
        "outputs": {str(name): description for name, description in parsed.output_descriptions.items()},
    })
print(json.dumps(out))
"""


@pytest.mark.slow
@pytest.mark.skipif(not _FLYTEKIT_PYTHON.exists(), reason="needs the flytekit 1.16 environment in .venvs")
def test_every_docstring_of_the_corpus_parses_as_flytekit_parses_it():
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(_FLYTEKIT_PYTHON), "-c", _FLYTEKIT_SIDE],
        input=json.dumps(CORPUS),
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=True,
    )
    expected = json.loads(done.stdout.strip().splitlines()[-1])
    for text, theirs in zip(CORPUS, expected, strict=True):
        assert _ours(text) == theirs, text
