"""Value types the kernel defines for users: files, directories, and opt-in pickling.

``taskloom.types.file.FlyteFile`` and ``taskloom.types.directory.FlyteDirectory`` keep flytekit's
module paths and names (``File`` and ``Directory`` are the same classes). Their transformers, like
every transformer, come from a plugin (taskloom-types).
"""
