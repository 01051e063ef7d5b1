"""Measured answer quality (``make eval``) and speed and cost (``make bench``).

- ``bot.evaluation.eval``: NLU figures from ``rasa test nlu`` on the held-out set, the right-answer
  rate end to end through the REST channel, and a TF-IDF baseline; writes ``reports/eval.*``.
- ``bot.evaluation.bench``: cold start, REST latency and throughput under load, peak memory and
  training time, for the project's config and Rasa's default side by side; writes
  ``reports/bench.*``.

The other modules are their parts: ``examples`` (NLU YAML files), ``answers`` (is a reply the
right answer?), ``metrics`` (classification figures), ``baseline`` (scikit-learn), ``live``
(servers and REST clients), ``load`` (concurrent clients) and ``markdown`` (report tables).
"""
