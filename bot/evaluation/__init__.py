"""Measured answer quality and cost: ``python -m bot eval|bench|profile`` (docs/evaluation.md).

- ``eval`` (``eval_report``): both held-out sets through the REST channel, per style, judged by
  ``answers`` from the turns ``live`` reads back, scored by ``metrics``, next to ``baseline``.
- ``bench`` (``bench_report``): ``workload`` conversations sent by ``load``, with the CPU and
  memory of the servers from ``processes``.
- ``profile``: where a message's time goes, in-process.

``examples`` reads the NLU files, ``model_info`` describes a model, ``markdown`` draws tables.
"""
