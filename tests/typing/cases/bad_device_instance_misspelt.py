from dlconf import Device, register_device

laptop = register_device("laptop", Device(num_workrs=2))  # expect-error
