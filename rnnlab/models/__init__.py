"""Complete models built from rnnlab's layers.

Each saves its configuration with its weights, so ``Model.from_checkpoint(path)``
rebuilds it.
"""

from .charlm import CharLM
from .classifier import SequenceClassifier
from .acoustic import CTCRecognizer
from .forecaster import Forecaster
from .seq2seq import Seq2Seq

__all__ = ["CharLM", "CTCRecognizer", "Forecaster", "SequenceClassifier", "Seq2Seq"]
