"""MNIST for dlconf: the real data set, a locally rendered stand-in, and MLP architectures.

``data.MNIST`` reads torchvision's files, ``synthetic.SyntheticDigits`` renders look-alike
digits when no data is at hand (``data=synthetic``), ``architectures`` holds the networks
that play the model roles. Import the submodule you need; nothing is re-exported here so
that importing the package stays cheap.
"""
