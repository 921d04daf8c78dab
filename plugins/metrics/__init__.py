"""Built-in metrics, one plugin module per family: classification, percentile thresholds
(``thresholded``), threshold-free pixel rankings, relevance mass, pointing game, the
study's protocol, the prior-controlled scores (``within_vessels``, ``segments``,
``prior_skill``), the mask-free tortuosity contrast, interventions, faithfulness and
sanity. Each registers itself like a third-party plugin. See docs/metrics.md for
definitions and chance levels.
"""
