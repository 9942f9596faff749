"""Data only: the ``text-static-minilm`` artifact folder beside this file, found by ``affectlab.registry``."""
