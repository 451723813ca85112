"""Complete models built from rnnlab's layers.

Each saves its configuration with its weights, so ``Model.from_checkpoint(path)``
rebuilds it.
"""

from .charlm import CharLM
from .classifier import SequenceClassifier
from .seq2seq import Seq2Seq

__all__ = ["CharLM", "SequenceClassifier", "Seq2Seq"]
