from dlconf.sweeps import Uniform, vary
from tests.typing.cases._common import p

batch_sizes = vary(p.batch_size).over(Uniform(min=32, max=256))  # expect-error
