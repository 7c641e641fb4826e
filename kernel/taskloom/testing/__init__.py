"""Support for testing taskloom and its plugins.

:mod:`taskloom.testing.fixtures` is a pytest plugin (loaded automatically when taskloom-kernel is
installed) with the ``taskloom_plugins`` fixture; :mod:`taskloom.testing.strategies` holds hypothesis
strategies for every contract and needs the ``taskloom-kernel[testing]`` extra.
"""
