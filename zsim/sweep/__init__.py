"""``zsim sweep``: run a model over the cross product of parameter values, boards and seeds,
each point in its own process, locally or on a Dask distributed cluster (docs/sweep.md).

``params`` parses ``--param`` and applies it to a topology or a prj.conf, ``points`` builds
the cross product, ``worker`` runs one point, ``runner`` runs many, ``results`` writes
``results.csv``/``results.json``, ``plot`` draws ``sweep.png``, ``expr`` evaluates
``--where``/``--stop-when`` conditions and ``bisect`` finds the smallest value meeting one.
"""
