"""Task types that ship with the kernel: :mod:`taskloom.extras.tasks.shell` (flytekit's ``ShellTask``)."""
