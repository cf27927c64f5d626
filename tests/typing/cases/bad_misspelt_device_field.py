from dlconf import DATA, conf
from dlconf.optimization import AdamBatchOptimization
from tests.typing.cases._common import d, model, p

optimization = conf(AdamBatchOptimization)(model=model, data=DATA, lr=p.lr, batch_size=p.batch_size, num_workers=d.num_workrs)  # expect-error
