from tests.typing.cases._common import elbo

metric = elbo.on("validation")  # expect-error
