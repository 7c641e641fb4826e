"""Lists, dicts, optionals and unions between tasks."""

import typing

from flytekit import task, workflow


@task
def word_counts(text: str) -> typing.Dict[str, int]:
    counts: typing.Dict[str, int] = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts


@task
def most_common(counts: typing.Dict[str, int], exclude: typing.Optional[typing.List[str]] = None) -> str:
    kept = {w: c for w, c in counts.items() if w not in (exclude or [])}
    return max(sorted(kept), key=lambda w: kept[w])


@task
def describe(value: typing.Union[int, str]) -> str:
    return f"{type(value).__name__}:{value}"


@task
def nested(n: int) -> typing.List[typing.Dict[str, typing.List[int]]]:
    return [{"row": list(range(i))} for i in range(n)]


@workflow
def collections_wf(text: str) -> typing.Tuple[str, str, str, str, typing.List[typing.Dict[str, typing.List[int]]]]:
    counts = word_counts(text=text)
    return (
        most_common(counts=counts),
        most_common(counts=counts, exclude=["the"]),
        describe(value=3),
        describe(value="three"),
        nested(n=3),
    )


if __name__ == "__main__":
    for value in collections_wf(text="the cat and the dog and the bird"):
        print(value)
