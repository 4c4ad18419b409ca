"""Opening scene files off the GUI thread, and the lecture they belong to (no Qt).

A scene file is a file from anywhere. :func:`~advviewer.reading.scene_file.read_scene` checks it
in the sandbox's child process, which a hostile file may keep busy up to SCENE_LIMITS' 10 s on
the clock (the largest real scene takes 0.4 s; the first file may also wait for the sandbox's
server to start), so it is read on the "scene" lane, as a picture is (the window goes on
meanwhile); listing a lecture's folder is part of the same job. Once read, the state shows the
scene (``SessionState.open_scene``: its models load on the model lane when they are not in use).

The newest request wins: Open, Next or Previous scene supersede the read in flight (its outcome
never arrives; the lane sets the job's cancel flag, the sandbox then kills its reader, and the
superseded read ends within about 0.1 s, not at its limits: the next scene is shown 0.1 s after
PageDown, not 9.6 s, when the file before kept its reader busy) and a scene of an earlier
request whose models are still loading (it is never shown). Next / Previous step from the scene
last asked for, so pressing PageDown twice goes two scenes on.

The lecture -- the scene files Next / Previous step through, and which of them is on screen --
changes only when the state shows the scene asked for: a scene refused (one line, the window
unchanged) or superseded leaves it as it was. A step that is refused is remembered, and the next
step goes on from it, so that a broken scene in a lecture can be stepped over (the status bar
says so). Opening a picture drops a scene being opened (:meth:`SceneOpening.cancel`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from psygnal import Signal, SignalGroup

from advviewer.reading.files import shown
from advviewer.reading.sandbox import SERVER_START_SECONDS
from advviewer.reading.scene_file import SCENE_LIMITS, Scene
from advviewer.session import scenes
from advviewer.session.jobs import Job
from advviewer.session.lanes import Lane
from advviewer.session.scenes import Lecture
from advviewer.session.tasks import Post, Task, TaskState

# a backstop: the sandbox stops a read after SCENE_LIMITS.wall_seconds, once its server has started; where there is no
# sandbox (ADVVIEWER_SANDBOX=off, Windows) the read runs on the lane's thread and is abandoned after this
SCENE_SECONDS = SERVER_START_SECONDS + SCENE_LIMITS.wall_seconds + 10.0


@dataclass(frozen=True)
class ReadScene:
    """A scene file read and checked, with the lecture it belongs to (positioned at it)."""

    lecture: Lecture
    scene: Scene


def read_lecture_job(path: Path) -> Job:
    """The lecture around ``path`` (a scene file or a folder) and its scene, read in the sandbox (one line if refused)."""
    def job(state: TaskState) -> ReadScene:
        lecture = Lecture.around(path)
        return ReadScene(lecture, scenes.read_scene(lecture.current, cancel=state.cancel))

    return job


def read_step_job(lecture: Lecture) -> Job:
    """The scene at ``lecture``'s position, read in the sandbox."""
    def job(state: TaskState) -> ReadScene:
        return ReadScene(lecture, scenes.read_scene(lecture.current, cancel=state.cancel))

    return job


@dataclass(frozen=True)
class SceneRequest:
    """One Open, Next or Previous scene: the lecture positioned at the scene asked for."""

    lecture: Lecture  # an Open whose folder is not listed yet: the file alone
    listed: bool  # the lecture is known (a step; an Open once read)
    step: bool  # Next / Previous scene (else Open)


class ShowsScenes(Protocol):
    """What a SceneOpening needs of the state (SessionState): to show a scene read, and to drop one whose models load."""

    def open_scene(self, scene: Scene, shown: Callable[[], None] | None = None,
                   refused: Callable[[], None] | None = None) -> Task | None: ...

    def drop_scene_loading(self) -> None: ...


class SceneOpeningEvents(SignalGroup):
    opening = Signal(str)  # the scene file being read (its name as shown to the user)
    refused = Signal(str)  # one line: why the file asked for could not be read (the window is unchanged)
    ended = Signal(str)  # nothing is being opened any more; what the status bar should say ("": nothing)


class SceneOpening:
    """Scene files opened in the background for the state, newest request first, and the lecture on screen."""

    def __init__(self, state: ShowsScenes, post: Post) -> None:
        self.events = SceneOpeningEvents()
        self.lecture: Lecture | None = None  # the lecture whose current scene the state shows; None: none opened yet
        self._state = state
        self._lane = Lane("scene", post)
        self._asked: SceneRequest | None = None  # the newest request, until its scene is shown or refused
        self._skip_from: Lecture | None = None  # a scene Next / Previous could not open: they step on from it

    def open_path(self, path: str | Path) -> Task:
        """Read a scene file, or a folder's first scene, and show it; its folder's scenes then are the lecture."""
        path = Path(path)
        return self._submit(SceneRequest(Lecture((path,)), listed=False, step=False), read_lecture_job(path))

    @property
    def latest(self) -> Lecture | None:
        """Where Next / Previous step from: the scene last asked for (being read, its models loading, or refused by a
        step, so that a broken scene can be stepped over), else the one on screen."""
        asked = self._asked
        if asked is not None:
            return asked.lecture if asked.listed else self.lecture
        return self._skip_from or self.lecture

    def step(self, by: int) -> Task | None:
        """Read and show the lecture's next (+1) or previous (-1) scene, from :attr:`latest`.

        None, and nothing happens, with no lecture or at either end."""
        latest = self.latest
        moved = latest.moved(by) if latest is not None else None
        if moved is None:
            return None
        return self._submit(SceneRequest(moved, listed=True, step=True), read_step_job(moved))

    def cancel(self) -> None:
        """Forget the request in flight (a picture was opened instead): its scene is never shown."""
        if self._asked is None:
            return
        self._lane.cancel()
        self._state.drop_scene_loading()
        self._asked = None
        self.events.ended.emit("")

    def is_idle(self) -> bool:
        return not self._lane.is_busy()

    def shutdown(self) -> None:
        self._lane.shutdown()

    # --- on the owner's thread -----------------------------------------------------------------

    def _submit(self, request: SceneRequest, job: Job) -> Task:
        self._state.drop_scene_loading()  # an earlier scene whose models still load is never shown
        self._asked, self._skip_from = request, None
        self.events.opening.emit(shown(request.lecture.current.name))
        return self._lane.submit(job, lambda read: self._read(request, read),
                                 lambda message: self._read_refused(request, message), time_limit=SCENE_SECONDS,
                                 timeout_message=f"reading it took longer than {SCENE_SECONDS:g} s")

    def _read(self, request: SceneRequest, read: ReadScene) -> None:
        listed = SceneRequest(read.lecture, listed=True, step=request.step)
        self._asked = listed  # an Open's folder is listed: Next steps from its scene while the models load
        self._state.open_scene(read.scene, shown=lambda: self._shown(listed), refused=lambda: self._refused(listed))

    def _shown(self, request: SceneRequest) -> None:
        """The state shows the scene asked for: its lecture is the lecture now (before the views hear of the scene)."""
        self.lecture = request.lecture
        if self._asked is request:
            self._asked = None
            self.events.ended.emit("")

    def _read_refused(self, request: SceneRequest, message: str) -> None:
        self.events.refused.emit(f"Scene not opened: {message}. The window is unchanged.")
        self._refused(request)

    def _refused(self, request: SceneRequest) -> None:
        """The scene asked for is not shown (the message bar says why); a step's position is kept to step on from."""
        if self._asked is not request:
            return
        self._asked = None
        if not request.step or self.lecture is None:
            self.events.ended.emit("")
            return
        self._skip_from = request.lecture
        self.events.ended.emit(f"The lecture stays at {self.lecture.position()}; Next / Previous scene step on from "
                               f"{request.lecture.position()}.")
