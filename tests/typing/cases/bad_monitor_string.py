from dlconf import Checkpoint

checkpoint = Checkpoint(monitor="ELBO/validation")  # expect-error
