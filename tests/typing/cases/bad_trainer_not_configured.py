from lightning.pytorch import Trainer

from dlconf import conf

trainer = conf(Trainer)(max_epochs="5")  # expect-error
