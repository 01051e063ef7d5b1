"""The project's spaCy pipeline: ``spacy.blank("en")`` plus rule-based components."""
