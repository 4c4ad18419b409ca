"""Training of the zoo models: the loop (``train``), augmentation (``augment``) and procedural mouse drawings (``drawn_digits``)."""
