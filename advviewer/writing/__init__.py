"""Writing: results out.

An attack's images, array and JSON record (``export``), the adversarial image that survives 8-bit
rounding (``eight_bit``), the slide-ready figure (``figure``), the attack's path as a GIF and APNG
(``animation``), pixels as 8-bit levels and a diverging colour
map (``pixels``, shared by all of them and the window's signed maps) and files written all or nothing (``atomic_files``).
"""
