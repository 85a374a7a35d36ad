"""Streaming frames to ffmpeg (imageio-ffmpeg): mp4 (H.264) or gif, by extension.

Each frame goes straight down ffmpeg's pipe; no video is ever held in memory.
The file appears under its final name only when it is complete and ffmpeg
reported success: it is written under a temporary name in the same folder,
fsynced, renamed, and the folder fsynced. A full disk is a
:class:`~evosim.errors.DiskFullError` naming the video. Temporary names carry the
writer's pid, so the files of a writer killed outright are removed by the next
writer in that folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

import imageio_ffmpeg
import numpy as np

from evosim import _atomic
from evosim.errors import DiskFullError, EvosimError
from evosim.limits import MAX_VIDEO_HEIGHT, MAX_VIDEO_WIDTH, MIN_VIDEO_SIDE

FORMATS = (".mp4", ".gif")

# GIF: a palette per frame (no buffering of the whole clip, unlike a global
# palettegen pass), no dithering (flat colours compress far better).
_GIF_FILTER = ("split[a][b];[a]palettegen=stats_mode=single:max_colors=128[p];"
               "[b][p]paletteuse=new=1:dither=none")


class RecordError(EvosimError):
    """A video cannot be written (bad path, extension or size; ffmpeg failed)."""


_TEMP_NAME = re.compile(r"^\..+\.rec(\d+)\.[A-Za-z0-9_]+(\.mp4|\.gif|\.palette\.rgb)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(folder: Path) -> int:
    """Delete the temporary files of writers that died (their pid is gone)."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        match = _TEMP_NAME.match(path.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                path.unlink()
                removed += 1
    return removed


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_video_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise RecordError(f"{path}: expected a video file name ending .mp4 or .gif, "
                          f"got {path.suffix or 'no extension'!r}")
    if path.exists() and path.is_dir():
        raise RecordError(f"{path}: is a folder; expected a video file name ending .mp4 or .gif")
    return path


def check_video_size(path: str | Path, size: tuple[int, int]) -> tuple[int, int]:
    w, h = size
    if not (MIN_VIDEO_SIDE <= w <= MAX_VIDEO_WIDTH and MIN_VIDEO_SIDE <= h <= MAX_VIDEO_HEIGHT):
        raise RecordError(f"video size: expected a width from {MIN_VIDEO_SIDE} to "
                          f"{MAX_VIDEO_WIDTH} and a height from {MIN_VIDEO_SIDE} to "
                          f"{MAX_VIDEO_HEIGHT}, got {w}x{h}")
    if Path(path).suffix.lower() == ".mp4" and (w % 2 or h % 2):
        raise RecordError(f"video size: expected even numbers for mp4 (H.264 yuv420p), got "
                          f"{w}x{h}; try {w - w % 2}x{h - h % 2}")
    return w, h


# How ffmpeg reports a full disk or quota (its strerror of ENOSPC and EDQUOT).
_FULL_TEXTS = ("No space left on device", "Disk quota exceeded")


class _Pipe:
    """ffmpeg reading raw RGB frames on stdin (for what imageio-ffmpeg cannot
    express: a second input, here a gif's fixed palette)."""

    def __init__(self, cmd: list[str], out: Path) -> None:
        self.out = out
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)

    def send(self, frame: bytes) -> None:
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(frame)
        except BrokenPipeError:
            self.close()  # raises with ffmpeg's message

    def close(self) -> None:
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self._proc.stdin.close()
        err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
        code = self._proc.wait()
        if code != 0:
            if any(text in err for text in _FULL_TEXTS):  # ffmpeg's strerror(ENOSPC)
                raise DiskFullError(str(self.out), None, _atomic.free_bytes(self.out),
                                    quota=_FULL_TEXTS[1] in err)
            last = err.strip().splitlines()[-1] if err.strip() else "no message"
            raise RecordError(f"{self.out}: ffmpeg failed (exit status {code}): {last}")

    def kill(self) -> None:
        self._proc.kill()
        self._proc.wait()


def _gif_with_palette(out: Path, size: tuple[int, int], fps: float, palette: np.ndarray,
                      palette_file: Path, final: Path) -> _Pipe:
    pal = np.ascontiguousarray(palette, np.uint8).reshape(16, 16, 3)
    try:
        palette_file.write_bytes(pal.tobytes())
    except OSError as exc:
        full = _atomic.disk_full(exc, final, None)
        if full is None:
            raise
        raise full from None
    w, h = size
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "-",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "16x16", "-i", str(palette_file),
           "-lavfi", "[0:v][1:v]paletteuse=dither=none", "-loop", "0", "-f", "gif", str(out)]
    return _Pipe(cmd, final)


def _raw_input(size: tuple[int, int], fps: float) -> list[str]:
    w, h = size
    return [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-f", "rawvideo",
            "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "-", "-an"]


class VideoWriter:
    """Write RGB frames (uint8 [H, W, 3] or raw bytes) to an mp4 or gif, streaming.

    Use as a context manager; on an exception the partial file is removed.
    ``quality`` is x264's crf for mp4 (23 is its default). ``palette``
    (uint8 [256, 3]) gives a gif one fixed palette, about half the size;
    without it each gif frame gets its own palette.
    """

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float = 30,
                 quality: int = 23, palette: np.ndarray | None = None) -> None:
        self.path = check_video_path(path)
        self.size = check_video_size(self.path, size)
        self.fps = fps
        self.frames = 0
        try:
            _atomic.make_dirs(self.path.parent)
            remove_stale_temp_files(self.path.parent)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.rec{os.getpid()}.",
                                       suffix=self.path.suffix, dir=self.path.parent)
        except OSError as exc:
            full = _atomic.disk_full(exc, self.path)
            if full is None:
                raise
            raise full from None
        os.close(fd)
        self._tmp = Path(tmp)
        self._palette_file = self._tmp.with_suffix(".palette.rgb")
        self._closed = False
        sink: _Pipe
        try:
            if self.path.suffix.lower() == ".gif" and palette is not None:
                sink = _gif_with_palette(self._tmp, self.size, fps, palette, self._palette_file,
                                         self.path)
            elif self.path.suffix.lower() == ".gif":
                sink = _Pipe([*_raw_input(self.size, fps), "-vf", _GIF_FILTER, "-loop", "0",
                              "-f", "gif", str(self._tmp)], self.path)
            else:
                # "veryfast" keeps x264 close to the drawing speed at little cost in size.
                sink = _Pipe([*_raw_input(self.size, fps), "-vcodec", "libx264",
                              "-pix_fmt", "yuv420p", "-crf", str(quality), "-preset", "veryfast",
                              "-movflags", "+faststart", "-f", "mp4", str(self._tmp)], self.path)
        except BaseException:
            self._cleanup()
            raise
        self._sink = sink

    def write(self, frame: np.ndarray | bytes) -> None:
        """Append one frame: uint8 [H, W, 3] RGB, or its bytes in that layout."""
        if isinstance(frame, np.ndarray):
            w, h = self.size
            if frame.shape != (h, w, 3) or frame.dtype != np.uint8:
                raise ValueError(f"frame: expected uint8 [{h}, {w}, 3], got "
                                 f"{frame.dtype} {list(frame.shape)}")
            frame = np.ascontiguousarray(frame).tobytes()
        self._sink.send(frame)
        self.frames += 1

    def close(self) -> Path:
        """Finish the file and move it to its final name."""
        if not self._closed:
            self._closed = True
            try:
                self._sink.close()
                # mkstemp made it private; outputs are ordinary files, as atomic writes make.
                os.chmod(self._tmp, _atomic._FILE_MODE)
                _fsync(self._tmp)  # ffmpeg does not: the bytes first, then the name
                os.replace(self._tmp, self.path)
                _atomic.fsync_dir(self.path.parent)
            except BaseException as exc:
                self._cleanup()
                full = _atomic.disk_full(exc, self.path)
                if full is not None:
                    raise full from None
                raise
            self._palette_file.unlink(missing_ok=True)
        return self.path

    def abort(self) -> None:
        """Stop and remove the partial file."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self._sink.kill()
            self._cleanup()

    def _cleanup(self) -> None:
        for p in (self._tmp, self._palette_file):
            with contextlib.suppress(OSError):
                p.unlink()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
