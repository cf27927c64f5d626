from dlconf import Checkpoint

checkpoint = Checkpoint(every="1000 iterations")  # expect-error
