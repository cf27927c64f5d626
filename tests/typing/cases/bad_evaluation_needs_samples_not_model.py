from dlconf import Evaluate, minutes
from tests.typing.cases._common import model

wrong = Evaluate("ELBO", model, every=minutes(1))  # expect-error
