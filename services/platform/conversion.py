"""Old Word (.doc) and OpenDocument text (.odt) uploads, turned into .docx by LibreOffice.

Committees still circulate Word 97-2003 files, and the template saved from LibreOffice or Google
Docs arrives as .odt. LibreOffice reads both better than anything we could write, but it is a
large program fed with untrusted bytes, so each conversion runs in its own process group with a
private, throw-away profile in which macros cannot run, under an address-space limit and a time
limit, and a bounded number at once per process (never on the event loop: the caller awaits a
child process). The result then goes through the same door as any uploaded .docx
(`services.documents.safety.open_docx`), size and zip checks included.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

from services.documents.safety import MAX_UPLOAD_BYTES, convertible_format
from services.platform.settings import Settings
from services.rules.errors import UnsupportedUpload

# Macros off whatever the document asks: the highest security level and macro execution disabled.
_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse">
<value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution"
 oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseDocumentSystemFileLocking" oor:op="fuse">
<value>false</value></prop></item>
</oor:items>
"""


@dataclass(frozen=True)
class Converted:
    data: bytes
    # ".doc" or ".odt" when LibreOffice converted the upload; "" when it was a .docx already.
    converted_from: str = ""

    @property
    def note(self) -> str:
        return f"converted from {self.converted_from}" if self.converted_from else ""


class Converter:
    """One per process (the composition root builds it from the settings)."""

    def __init__(self, soffice: str | None, *, timeout: float, memory_mb: int, at_once: int) -> None:
        self.soffice = soffice
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._slots = asyncio.Semaphore(max(1, at_once))

    @classmethod
    def of(cls, settings: Settings) -> Converter:
        soffice = settings.soffice_path or shutil.which("soffice") or shutil.which("libreoffice")
        return cls(
            soffice,
            timeout=settings.convert_timeout_seconds,
            memory_mb=settings.convert_memory_mb,
            at_once=settings.convert_at_once,
        )

    async def as_docx(self, data: bytes) -> Converted:
        """`data` as .docx bytes: converted when it is a .doc or .odt and LibreOffice is here;
        otherwise unchanged (the .docx reader then says what the file is and what to do)."""
        kind = convertible_format(data)
        if not kind or not self.soffice:
            return Converted(data)
        async with self._slots:
            return Converted(await self._convert(data, kind), kind)

    async def _convert(self, data: bytes, kind: str) -> bytes:
        assert self.soffice is not None
        work = Path(tempfile.mkdtemp(prefix="ballotdesk-convert-"))
        try:
            source = work / f"upload{kind}"
            source.write_bytes(data)
            profile = work / "profile"
            (profile / "user").mkdir(parents=True)
            (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE)
            out = work / "out"
            out.mkdir()
            command = [
                *self._limits(),
                self.soffice,
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                "--nolockcheck",
                "--nodefault",
                f"-env:UserInstallation={profile.as_uri()}",
                "--convert-to",
                "docx:MS Word 2007 XML",
                "--outdir",
                str(out),
                str(source),
            ]
            await self._run(command, work, kind)
            result = out / "upload.docx"
            if not result.is_file() or result.stat().st_size == 0:
                raise UnsupportedUpload(
                    f"LibreOffice could not read this {kind} file; open it in Word or LibreOffice, save it as "
                    ".docx and upload that."
                )
            if result.stat().st_size > MAX_UPLOAD_BYTES:
                raise UnsupportedUpload(
                    f"This {kind} file becomes {result.stat().st_size:,} bytes as .docx, more than the "
                    f"{MAX_UPLOAD_BYTES:,} an upload may have."
                )
            return result.read_bytes()
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    def _limits(self) -> list[str]:
        prlimit = shutil.which("prlimit")
        if not prlimit:
            return []
        # CPU seconds as a second fence behind the wall-clock limit.
        cpu = max(1, int(self.timeout) + 5)
        return [prlimit, f"--as={self.memory_mb * 1024 * 1024}", f"--cpu={cpu}", "--"]

    async def _run(self, command: list[str], work: Path, kind: str) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8"}
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=work,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so a kill reaches every child it started
        )
        try:
            await asyncio.wait_for(process.wait(), self.timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise UnsupportedUpload(
                f"Converting this {kind} file took longer than {self.timeout:g} s, so it was refused; open it in "
                "Word or LibreOffice, save it as .docx and upload that."
            ) from None
        finally:
            # Whatever the converter left running in its group goes with it.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
