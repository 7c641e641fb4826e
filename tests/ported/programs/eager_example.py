"""@eager: a workflow body that calls tasks and uses their values as Python values (flytekit 1.16's form)."""

import asyncio

from flytekit import eager, task


@task
def add_one(x: int) -> int:
    return x + 1


@task
def double(x: int) -> int:
    return 2 * x


@eager
async def eager_wf(x: int) -> int:
    out = add_one(x=x)
    if out < 0:
        return -1
    doubled = [double(x=out + i) for i in range(3)]
    return sum(doubled)


if __name__ == "__main__":
    print(asyncio.run(eager_wf(x=1)))
