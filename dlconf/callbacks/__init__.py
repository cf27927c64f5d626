"""Lightning callbacks: evaluate every N units of training, train for a duration.

Both count *training* time on one :class:`TrainingClock` per run, which the runner creates
and hands to each of them; evaluation pauses it for all. The runner hands them to Lightning
in a :class:`CallbackGroup`, which Lightning dispatches as one callback.
"""

from dlconf.callbacks.clock import TrainingClock
from dlconf.callbacks.evaluation import EvaluationCallback
from dlconf.callbacks.group import CallbackGroup
from dlconf.callbacks.train_for import TrainForCallback

__all__ = ["CallbackGroup", "EvaluationCallback", "TrainForCallback", "TrainingClock"]
