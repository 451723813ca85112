"""Complete models built from rnnlab's layers; each saves its configuration with its weights,
so ``Model.from_checkpoint(path)`` rebuilds it."""

from .charlm import CharLM
from .classifier import SequenceClassifier

__all__ = ["CharLM", "SequenceClassifier"]
