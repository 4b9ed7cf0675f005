"""Faithfulness evaluation: run suites of brief/ask cases, save each result, then score the saved
briefings: citation coverage, ALCE citation recall and precision, unsupported sentences after
verification, repair actions, key-fact recall, abstention accuracy, tokens and latency.

Two judges play two roles. The *verifier* (``--judge``, BRIEFING_JUDGE) decided during the run
which sentences were kept. The *scorer* (``--scoring-judge``, BRIEFING_EVAL_JUDGE; by default a
different judge, ``judges.scoring_judge_for``) scores citation recall, precision and the
unsupported rate afterwards, so those figures are not 1.0 by construction. The verifier's own
citation recall and how often the two judges agree on a shown sentence are reported beside them.

``cases`` reads suite files, ``run`` runs their cases and saves each briefing, ``scoring`` scores
saved briefings (pure), ``details`` says what the report shows of each case (pure), ``judges``
scores the support judges against human labels.
"""
