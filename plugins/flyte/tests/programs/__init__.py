"""Example programs packaged by flytekit 1.16 and by taskloom and compared (see ``flytekit_reference.py``).

Each module is written against flytekit; the taskloom copy is made by rewriting the imports
(``from flytekit import`` becomes ``from taskloom import``), so both SDKs read the same program.
Only names that both SDKs export belong here.
"""
