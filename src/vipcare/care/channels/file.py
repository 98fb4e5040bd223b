import json
from pathlib import Path

from vipcare.care.channels.base import Outgoing


class FileBackend:
    """Writes each message to `<folder>/<ref>.json` — the default, and the console of development.
    A resend of the same ref finds its file and writes nothing: idempotent."""

    idempotent = True

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def send(self, outgoing: Outgoing) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{outgoing.ref}.json"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(outgoing.__dict__, ensure_ascii=False), encoding="utf-8")
            tmp.replace(path)
        return f"file:{outgoing.ref}"
