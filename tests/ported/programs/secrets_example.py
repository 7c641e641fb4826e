"""A task that requests a secret and reads it from the context (locally: an environment variable)."""

import os

from flytekit import Secret, current_context, task, workflow

os.environ.setdefault("_FSEC_DB_PASSWORD", "hunter2")


@task(secret_requests=[Secret(group="db", key="password")])
def password_length() -> int:
    return len(current_context().secrets.get("db", "password"))


@task(secret_requests=[Secret(group="db", key="missing")])
def missing() -> str:
    try:
        return current_context().secrets.get("db", "missing")
    except ValueError:
        return "no such secret"


@workflow
def secrets_wf() -> tuple[int, str]:
    return password_length(), missing()


if __name__ == "__main__":
    length, message = secrets_wf()
    print(length, message)
