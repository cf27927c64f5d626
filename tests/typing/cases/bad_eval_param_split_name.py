from tests.typing.cases._common import ELBOParams

settings = ELBOParams(evaluate_on="validation")  # expect-error
