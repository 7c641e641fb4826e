"""Task types that ship with the kernel, at flytekit's paths (``flytekit.extras`` ports to ``taskloom.extras``)."""
