"""The generator: spec/*.yaml -> aftership_async/_generated/.

``load`` reads and validates a spec, ``build`` turns it into the plain
intermediate model of :mod:`codegen.ir`, ``render`` writes Python through the
Jinja templates in ``templates/`` (one per concern). It imports neither the
runtime nor the generated code.
"""
