"""Emotional memory for agents (Emotional RAG, Huang et al. 2024): memories stored with what they said and
how they felt, in an embedded LanceDB folder, and recalled by meaning, by feeling, or both.

>>> from affectlab.memory import EmotionalMemory
>>> memory = EmotionalMemory("runs/agent-memory")
>>> memory.add("I finally finished the marathon!", speaker="alice")
>>> [(hit.text, hit.why) for hit in memory.recall("so proud of myself today", k=3)]
"""

from affectlab.memory.encoding import EMOTION_FORMAT, AffectEncoder, Encoded, MemoryEncoder, distribution, reading
from affectlab.memory.errors import InvalidMemory, ModelMismatch
from affectlab.memory.memory import EmotionalMemory, MemoryInfo
from affectlab.memory.prompt import RecallingLM, memory_lines
from affectlab.memory.results import MemoryHit, Recall
from affectlab.memory.strategies import DEFAULT_CANDIDATES, DEFAULT_EMOTION_WEIGHT, DEFAULT_STRATEGY, STRATEGIES

__all__ = [
    "DEFAULT_CANDIDATES", "DEFAULT_EMOTION_WEIGHT", "DEFAULT_STRATEGY", "EMOTION_FORMAT", "STRATEGIES",
    "AffectEncoder", "EmotionalMemory", "Encoded", "InvalidMemory", "MemoryEncoder", "MemoryHit", "MemoryInfo",
    "ModelMismatch", "Recall", "RecallingLM", "distribution", "memory_lines", "reading",
]
