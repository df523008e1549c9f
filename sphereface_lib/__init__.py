"""sphereface_lib: A-Softmax (SphereFace, Liu et al. CVPR 2017) and its baselines in PyTorch."""

__version__ = "0.1.0"
