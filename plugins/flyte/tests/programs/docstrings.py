"""One task per docstring style (Google, NumPy, reST) and one without: the descriptions both SDKs write."""

from flytekit import task, workflow


@task
def google(a: int, b: str = "x") -> int:
    """Add things up.

    A longer explanation
    over two lines.

    Args:
        a: the first number
        b (str): a label,
            continued here

    Returns:
        int: the total
    """
    return a + len(b)


@task
def numpy_style(a: int, b: str = "x") -> int:
    """Add things up.

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
    return a + len(b)


@task
def rest(a: int, b: str = "x") -> int:
    """Add things up.

    A longer explanation.

    :param a: the first number
    :param b: a label
    :return: the total
    """
    return a + len(b)


@task
def plain(a: int) -> int:
    return a


@workflow
def documented(a: int = 1) -> int:
    """Run them all.

    :param a: the input
    :return: the result
    """
    return rest(a=numpy_style(a=google(a=plain(a=a))))
