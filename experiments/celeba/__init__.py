"""CelebA for dlconf: the real data set, rendered stand-in faces, and conv architectures.

``data.CelebA`` reads torchvision's files (decoded once into a uint8 cache beside them),
``synthetic.SyntheticFaces`` renders face-like images with known landmarks when no data is
at hand (``data=synthetic``), ``architectures`` holds the conv networks built from typed
layer lists, ``configs`` what both CelebA experiments share. Import the submodule you need.
"""
