"""Pure image kernels: (image, *, params) -> new image.

numpy and OpenCV only; no randomness, no I/O, no imports from the rest of augcli. Images are
numpy arrays in OpenCV channel order: (H, W) gray, (H, W, 3) BGR or (H, W, 4) BGRA, uint8 or uint16.
A kernel never modifies its input.
"""
