"""Writing: results out.

An attack's images, array and JSON record (``export``), the adversarial image that survives 8-bit
rounding (``eight_bit``), the slide-ready figure (``figure``) and files written all or nothing (``atomic_files``).
"""
