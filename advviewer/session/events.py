"""The events SessionState emits, each carrying the new value (psygnal: no Qt needed)."""

from psygnal import Signal, SignalGroup


class SessionEvents(SignalGroup):
    model = Signal(object)  # ModelChoice now in use
    model_loading = Signal(str)  # the name or path being loaded
    model_refused = Signal(str, object)  # one-line reason, the ModelChoice still in use (or None)
    target = Signal(object)  # int | None
    c = Signal(float)
    objective = Signal(str)  # choices.PAPER_OBJECTIVE or RIVAL_OBJECTIVE
    confidence = Signal(object)  # choices.CONFIDENCES: None or a probability
    gradient = Signal(object)  # GradientChoice
    input = Signal(object)  # InputImage: the model's new 28x28 input, as soon as it is framed
    evaluated = Signal(object)  # LiveEvaluation
    finite_differences = Signal(object)  # FiniteDifferences
    finite_differences_failed = Signal(str)
    attack_started = Signal(object)  # AttackRequest
    attack_progress = Signal(object)  # AttackIterate
    attack_finished = Signal(object)  # FinishedAttack
    attack_stopped = Signal(str, bool)  # why it ended without a result, whether that is an error
    result = Signal(object)  # ResultView: what the result panel shows
    runs = Signal(object)  # Runs: the c plot's points
    scene_opened = Signal(object)  # reading.scene_file.Scene: the state now shows it (the canvas and the Explore tab follow)
    message = Signal(str, str)  # text for the message bar, "error" or "info"
