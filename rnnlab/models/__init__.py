"""Complete models built from rnnlab's layers.

Each saves its configuration with its weights, so ``Model.from_checkpoint(path)``
rebuilds it.
"""

from .charlm import CharLM
from .classifier import SequenceClassifier

__all__ = ["CharLM", "SequenceClassifier"]
