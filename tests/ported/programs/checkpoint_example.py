"""An intra-task checkpoint: what a failed attempt wrote is read by the next attempt."""

from flytekit import current_context, task, workflow


@task(retries=0)
def use_checkpoint(n: int) -> int:
    cp = current_context().checkpoint
    previous = cp.read()
    start = int(previous.decode()) if previous else 0
    total = start
    for i in range(start, n):
        total += i
    cp.write(str(total).encode())
    return total


@workflow
def checkpoint_wf(n: int = 5) -> int:
    return use_checkpoint(n=n)


if __name__ == "__main__":
    print(checkpoint_wf(n=10))
