"""``SQLTask``, the base of every SQL task type, and its query templates bound as driver parameters.

A query template is written as in flytekit, ``select * from t where name = {{ .inputs.name }}``, but
the input's value is never pasted into the SQL text, as flytekit pastes it: each ``{{ .inputs.x }}``
becomes the driver's placeholder for a parameter named ``x`` and the value is handed to the driver
beside the text, so a value such as ``'; DROP TABLE x; --`` is compared as the string it is.

Two consequences that a ported query may meet, both reported where the task is declared:

* A placeholder that is a whole quoted string, ``'{{ .inputs.name }}'`` (what flytekit's pasting
  needs for text), is the parameter itself: the quotes are dropped with it, and the value is bound
  as whatever type it has.
* A placeholder inside a longer quoted string or identifier, ``'%{{ .inputs.name }}%'``, cannot be a
  parameter; the error says to build the string in SQL instead (``'%' || {{ .inputs.name }} || '%'``).
  A table or column name cannot be a parameter either: such a template fails in the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from taskloom.extend import PythonInstanceTask, ValidationError

T = TypeVar("T")

#: flytekit's pattern of an input in a query template (``SQLTask._INPUT_REGEX``).
INPUT_REGEX = re.compile(r"({{\s*.inputs.(\w+)\s*}})", re.IGNORECASE)


class SQLTask(PythonInstanceTask[T]):
    """The base of SQL task types (flytekit's ``flytekit.core.base_sql_task.SQLTask``).

    ``query_template`` is kept as flytekit keeps it (newlines and runs of blanks made one space), and
    checked against ``inputs`` at once: every ``{{ .inputs.x }}`` must name an input and every input
    must appear (flytekit checks both when the query runs). Subclasses implement :meth:`execute` with
    :meth:`bound_query`.
    """

    _INPUT_REGEX = INPUT_REGEX
    #: ``module.Class`` of the class that runs the task from its template alone (flytekit's ``executor_type``):
    #: set by pre-built-image task types, whose container runs ``loom-execute`` with the template resolver.
    executor_path: str | None = None

    def __init__(
        self,
        name: str,
        query_template: str,
        task_config: T | None = None,
        task_type: str = "sql_task",
        inputs: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name, task_config, task_type=task_type, inputs=inputs, outputs=outputs, **kwargs)  # type: ignore[arg-type]
        self._query_template = re.sub(r"\s+", " ", query_template.replace("\n", " ").replace("\t", " ")).strip()
        # Bind once with a neutral placeholder: a template that cannot be bound is refused here, not at run time.
        parameterize(f"task {name!r}", self._query_template, set(self.python_interface.inputs), lambda n: f":{n}")

    @property
    def query_template(self) -> str:
        """The query with ``{{ .inputs.x }}`` placeholders, blanks normalised as flytekit does."""
        return self._query_template

    def bound_query(self, placeholder: Callable[[str], str]) -> tuple[str, list[str]]:
        """The query for the driver, each input replaced by ``placeholder(name)``, and the inputs it names."""
        return parameterize(f"task {self.name!r}", self._query_template, set(self.python_interface.inputs), placeholder)


def parameterize(
    entity: str, template: str, inputs: set[str], placeholder: Callable[[str], str]
) -> tuple[str, list[str]]:
    """``template`` with every ``{{ .inputs.x }}`` replaced by ``placeholder("x")``, and the names used in order.

    Raises :class:`~taskloom.extend.ValidationError` naming ``entity`` when a placeholder names no
    input, an input has no placeholder, or a placeholder sits inside a longer quoted string.
    """
    pieces: list[str] = []
    used: list[str] = []
    position = 0
    for match in INPUT_REGEX.finditer(template):
        expression, name = match.group(1), match.group(2)
        if name not in inputs:
            raise ValidationError(
                f"{entity}: query_template names input {name!r} ({expression}), "
                f"expected one of the task's inputs {sorted(inputs)}"
            )
        before = template[position : match.start()]
        start, end = match.start(), match.end()
        quote = _open_quote(template[:start])
        if quote is not None:
            if template[start - 1] == quote and template[end : end + 1] == quote:
                # '{{ .inputs.x }}': the quotes flytekit's pasting needed belong to the parameter now.
                before = before[:-1]
                end += 1
            else:
                raise ValidationError(
                    f"{entity}: query_template puts input {name!r} inside a quoted string or name "
                    f"({template[max(0, start - 10) : end + 10]!r}); inputs are bound as parameters, never pasted "
                    f"into the SQL text, so expected the value's place outside quotes, e.g. "
                    f"'%' || {{{{ .inputs.{name} }}}} || '%'"
                )
        pieces += [before, placeholder(name)]
        used.append(name)
        position = end
    pieces.append(template[position:])
    missing = sorted(inputs - set(used))
    if missing:
        raise ValidationError(
            f"{entity}: inputs {missing} appear nowhere in query_template; "
            f"expected each as {{{{ .inputs.NAME }}}}, got {template!r}"
        )
    return "".join(pieces), used


def _open_quote(text: str) -> str | None:
    """The quote character (``'`` or ``"``) left open at the end of ``text``, or None.

    SQL doubles a quote inside a quoted string (``'it''s'``): that closes and reopens the string, which
    leaves the same state, so counting quotes one by one is exact.
    """
    open_quote: str | None = None
    for character in text:
        if open_quote is None:
            if character in "'\"":
                open_quote = character
        elif character == open_quote:
            open_quote = None
    return open_quote
