from dlconf import VALID, Checkpoint
from tests.typing.cases._common import elbo

checkpoint = Checkpoint(monitor=elbo.on(VALID), mode="maximize")  # expect-error
