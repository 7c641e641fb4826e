"""A workflow built imperatively (flytekit exports ImperativeWorkflow as Workflow)."""

import typing

from flytekit import Workflow, task


@task
def upper(s: str) -> str:
    return s.upper()


@task
def join(a: str, b: str) -> str:
    return f"{a}-{b}"


wf = Workflow(name="imperative")
wf.add_workflow_input("left", str)
wf.add_workflow_input("right", str)
left = wf.add_entity(upper, s=wf.inputs["left"])
right = wf.add_entity(upper, s=wf.inputs["right"])
joined = wf.add_entity(join, a=left.outputs["o0"], b=right.outputs["o0"])
wf.add_workflow_output("joined", joined.outputs["o0"], python_type=str)


if __name__ == "__main__":
    print(wf(left="ab", right="cd"))
    print(typing.get_type_hints(upper.task_function))
