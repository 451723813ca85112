"""Complete models built from rnnlab's layers."""
from .charlm import CharLM

__all__ = ["CharLM"]
