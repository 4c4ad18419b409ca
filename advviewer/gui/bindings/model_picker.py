"""The model picker and the state: a pick loads in the background; the picker shows the model in use."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QStatusBar

from advviewer.reading.files import shown
from advviewer.session import SessionState
from advviewer.session.values import ModelChoice

LOADING = "Loading the model"


def bind_model_picker(state: SessionState, picker: QComboBox, status: QStatusBar) -> None:
    about_the_picker = picker.toolTip()

    def describe_current() -> None:
        """The tooltip starts with the whole entry of the model in use (the closed box shows a short face)."""
        picker.setToolTip("\n\n".join(text for text in (picker.currentText(), about_the_picker) if text))

    def pick(index: int) -> None:
        if index >= 0:
            state.load_model(picker.itemData(index))

    def show(model: ModelChoice | None) -> None:
        """Select the model in use (a model file gets an entry of its own); no signal."""
        index = picker.findData(model.name) if model is not None else -1
        if index < 0 and model is not None:
            picker.addItem(model.display_name, model.name)
            index = picker.count() - 1
        picker.blockSignals(True)
        picker.setCurrentIndex(index)
        picker.blockSignals(False)
        describe_current()

    def done_loading() -> None:
        if status.currentMessage().startswith(LOADING):
            status.clearMessage()

    def loaded(model: ModelChoice) -> None:
        show(model)
        done_loading()

    def loading(name: str) -> None:
        status.showMessage(f"{LOADING} {shown(name)}…")
        if state.model is None and (index := picker.findData(name)) >= 0:  # the first model: name it while it loads
            picker.blockSignals(True)
            picker.setCurrentIndex(index)
            picker.blockSignals(False)
            describe_current()

    picker.currentIndexChanged.connect(pick)
    state.events.model_loading.connect(loading)
    state.events.model.connect(loaded)
    state.events.model_refused.connect(lambda message, kept: (show(kept), done_loading()))
    show(state.model)
