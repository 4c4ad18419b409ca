"""Reading: bytes and pictures in, made safe.

A file a user names (``files``: only regular files, bounded reads), decoded in a child process with
limits (``sandbox``), its structure counted before Pillow sees it (``image_structure``), ``.npy`` arrays
read from checked bytes (``npy_read``), pictures into pixels (``image_io``) and pixels into the model's
28x28 input, the way MNIST was made (``preprocess``), scene files checked field by field
(``scene_file``). Never imports writing, training or the attack.
"""
