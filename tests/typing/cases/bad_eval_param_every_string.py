from tests.typing.cases._common import ELBOParams

settings = ELBOParams(every="1 minute")  # expect-error
