from dlconf import Device

device = Device(precision="bfloat16-mixed")  # expect-error
