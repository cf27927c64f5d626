from dlconf import Checkpoint, iterations

checkpoint = Checkpoint(every=iterations(1000))  # expect-error
