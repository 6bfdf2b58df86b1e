"""The pytest plugin: the only part of iam-compliance that imports pytest.

``plugin`` is the entry point (options, wiring, fixtures); ``checker`` reads and judges
the targets; ``fixing`` runs --fix; ``failures`` turns unreadable targets into exit code
4; ``reports`` attaches verdicts to test reports and writes the report files; ``xdist``
keeps each target on one worker.
"""
