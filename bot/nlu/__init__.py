"""Custom Rasa NLU components.

- ``bot.nlu.red_flags.RedFlagDetector``: rule-based detection of emergencies and of thoughts
  of suicide or self-harm; overrides the predicted intent so safety never
  depends on the intent classifier.
"""
