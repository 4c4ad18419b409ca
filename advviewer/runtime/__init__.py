"""What the running program needs from its machine: importing torch off the drawing thread
(``torch_import``), thread counts (``threads``) and the shipped data files (``resources_access``)."""
