"""Launch plans with default and fixed inputs, called from Python."""

from flytekit import LaunchPlan, task, workflow


@task
def power(base: int, exponent: int) -> int:
    return base**exponent


@workflow
def power_wf(base: int, exponent: int = 2) -> int:
    return power(base=base, exponent=exponent)


cubes = LaunchPlan.get_or_create(power_wf, name="cubes", fixed_inputs={"exponent": 3})
tens = LaunchPlan.get_or_create(power_wf, name="tens", default_inputs={"base": 10})


if __name__ == "__main__":
    print(power_wf(base=3), cubes(base=2), tens(exponent=3), tens())
    default = LaunchPlan.get_or_create(power_wf)
    print(default.name, default(base=5))
