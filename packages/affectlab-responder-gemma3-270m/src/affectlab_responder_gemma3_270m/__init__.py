"""Data only: the ``responder-gemma3-270m`` artifact folder beside this file, found by ``affectlab.registry``."""
