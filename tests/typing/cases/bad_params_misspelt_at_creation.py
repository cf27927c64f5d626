from tests.typing.cases._common import Params

params = Params(bta=0.1)  # expect-error
