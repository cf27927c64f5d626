from dlconf import DATA, conf
from dlconf.optimization import AdamBatchOptimization
from tests.typing.cases._common import d, model

optimization = conf(AdamBatchOptimization)(
    model=model,
    data=DATA,
    lr=1e-3,
    batch_size=8,
    pin_memory=d.num_workers,  # expect-error
)
