"""Runs on the Hugging Face Hub, in two one-way steps.

- :mod:`geovario.hub.refs` reads: wherever geovario takes a run directory it also takes
  ``hf:OWNER/NAME[@REVISION]``, resolved once to a folder in the Hugging Face cache
  (inference, ``Predictor`` and the OSV-5M reader use it).
- :mod:`geovario.hub.push` writes: ``geovario push`` uploads a run with a model card. It
  imports ``refs`` (for the reference it prints); nothing that loads a run imports it.
"""
