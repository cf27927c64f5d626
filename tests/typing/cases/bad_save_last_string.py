from dlconf import Checkpoint

checkpoint = Checkpoint(save_last="yes")  # expect-error
