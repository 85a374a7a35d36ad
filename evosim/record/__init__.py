"""Recording worlds to video: frames drawn off-screen, streamed to ffmpeg.

``record(worlds, out, steps=...)`` writes an mp4 (H.264) or a gif, chosen by
the file extension; two worlds are recorded side by side.
"""

from evosim.record.record import record, render_frame
from evosim.record.writer import RecordError, VideoWriter

__all__ = ["RecordError", "VideoWriter", "record", "render_frame"]
