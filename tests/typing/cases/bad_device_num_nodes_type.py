from dlconf import Device

device = Device(num_nodes="2")  # expect-error
