from dlconf import VALID, Checkpoint
from tests.typing.cases._common import samples

checkpoint = Checkpoint(monitor=samples.on(VALID))  # expect-error
