"""twister_adapter: zsim models as twister suites.

``zsim twister`` discovers suites from ``testcase.yaml``/``sample.yaml``, runs them on the
simulator or on boards through one ``Executor`` interface, applies twister's console and
ztest harness rules and writes twister's reports (``twister.json``, ``twister.xml``,
``twister_report.xml``, ``testplan.json``).
"""
