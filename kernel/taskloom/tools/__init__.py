"""Tools over entities, at flytekit's paths (``taskloom.tools.translator.get_serializable``)."""
