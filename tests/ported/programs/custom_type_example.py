"""A user type with its own TypeTransformer that stores the value in a file through ctx.file_access."""

import os
import typing

from flytekit import Blob, BlobMetadata, FlyteContext, Literal, LiteralType, Scalar, task, workflow
from flytekit.extend import TypeEngine, TypeTransformer
from flytekit.models.core.types import BlobType


class Bag:
    def __init__(self, items: typing.List[str]):
        self.items = items


class BagTransformer(TypeTransformer[Bag]):
    _TYPE = BlobType(format="bag", dimensionality=BlobType.BlobDimensionality.SINGLE)

    def __init__(self):
        super().__init__(name="bag", t=Bag)

    def get_literal_type(self, t: typing.Type[Bag]) -> LiteralType:
        return LiteralType(blob=self._TYPE)

    def to_literal(self, ctx: FlyteContext, python_val: Bag, python_type: typing.Type[Bag], expected: LiteralType):
        local = ctx.file_access.get_random_local_path()
        with open(local, "w") as out:
            out.write("\n".join(python_val.items))
        remote = ctx.file_access.get_random_remote_path()
        ctx.file_access.put_data(local, remote)
        return Literal(scalar=Scalar(blob=Blob(metadata=BlobMetadata(type=self._TYPE), uri=remote)))

    def to_python_value(self, ctx: FlyteContext, lv: Literal, expected_python_type: typing.Type[Bag]) -> Bag:
        local = ctx.file_access.get_random_local_path()
        ctx.file_access.get_data(lv.scalar.blob.uri, local)
        with open(local) as handle:
            return Bag(handle.read().split("\n"))


TypeEngine.register(BagTransformer())


@task
def make_bag(n: int) -> Bag:
    return Bag([f"item-{i}" for i in range(n)])


@task
def bag_size(bag: Bag) -> int:
    return len(bag.items)


@workflow
def bag_wf(n: int = 3) -> int:
    return bag_size(bag=make_bag(n=n))


if __name__ == "__main__":
    print(bag_wf(n=4), os.path.basename(__file__))
