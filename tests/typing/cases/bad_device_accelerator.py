from dlconf import Device

device = Device(accelerator="gpus")  # expect-error
