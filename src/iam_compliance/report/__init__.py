"""What a run tells people and tools: the typed report model and its renderings.

``model`` (the typed values, and compliance.json's schema), ``build`` (the model from the
engine's verdicts), ``terminal`` (text), ``html`` (Jinja2 templates in ``templates/``),
``junit`` (suite properties), ``records`` and ``files`` (remediation records, and writing
any report file safely). Nothing here imports pytest: the pytest plugin decides when and
where each is written.
"""
