"""Complete models built from rnnlab's layers.

Each saves its configuration with its weights, so ``Model.from_checkpoint(path)``
rebuilds it.
"""

from .charlm import CharLM
from .classifier import SequenceClassifier
from .acoustic import CTCRecognizer
from .forecaster import Forecaster
from .frames import FramePredictor, next_frame_loss
from .seq2seq import Seq2Seq

__all__ = [
    "CharLM",
    "CTCRecognizer",
    "Forecaster",
    "FramePredictor",
    "next_frame_loss",
    "SequenceClassifier",
    "Seq2Seq",
]
