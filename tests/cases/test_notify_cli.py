"""`iplos notify contact` and `iplos notify send` against a real local SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest
from smtp_helpers import SmtpServer  # type: ignore[import-not-found]
from typer.testing import CliRunner

from iplos.cases import CaseService
from iplos.cases.examples import drive
from iplos.cli import app


def test_send_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = SmtpServer()
    server.start()
    try:
        monkeypatch.setenv("IPLOS_HOME", str(tmp_path))
        monkeypatch.delenv("IPLOS_CASE_DB", raising=False)
        service = CaseService.from_settings()
        service.users.create("rita", "correct horse battery staple", "reviewer")
        service.close()
        runner = CliRunner()
        result = runner.invoke(
            app, ["notify", "contact", "rita", "--email", "rita@example.no", "--language", "en"]
        )
        assert result.exit_code == 0, result.output
        assert "rita@example.no (en)" in result.output
        bad = runner.invoke(app, ["notify", "contact", "rita", "--email", "not an address"])
        assert bad.exit_code != 0
        service = CaseService.from_settings()
        drive(service, "submitted")
        service.close()
        monkeypatch.delenv("IPLOS_SMTP_HOST", raising=False)
        result = runner.invoke(app, ["notify", "send"])
        assert "0 sent" in result.output and "app only" in result.output
        monkeypatch.setenv("IPLOS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("IPLOS_SMTP_PORT", str(server.port))
        monkeypatch.setenv("IPLOS_SMTP_FROM", "iplos@helsedir.example")
        result = runner.invoke(app, ["notify", "send"])
        assert result.exit_code == 0, result.output
        assert "1 sent, 0 failed of 1 due" in result.output
        [mail] = server.inbox.mails
        assert mail["To"] == "rita@example.no" and "New application" in str(mail["Subject"])
        assert "1 sent" not in runner.invoke(app, ["notify", "send"]).output
    finally:
        server.stop()
