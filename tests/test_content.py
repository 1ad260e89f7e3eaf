"""Generated man page and completions match the CLI; every option has an environment variable."""

from __future__ import annotations

import subprocess

from argus.cli.content import commands, generated, stale_files
from argus.cli.main import app


def test_man_page_and_completions_are_up_to_date() -> None:
    stale = stale_files(app)
    assert not stale, f"run `python -m argus.cli.content`: {[p.name for p in stale]}"


def test_every_command_is_in_every_generated_file() -> None:
    files = generated(app)
    for cmd in commands(app):
        for path, text in files.items():
            # roff escapes hyphens in the man page
            assert cmd.name in text or cmd.name.replace("-", "\\-") in text, (cmd.name, path.name)


def test_every_option_has_an_argus_environment_variable() -> None:
    for cmd in commands(app):
        for param in cmd.params:
            if param.is_argument:
                continue
            assert param.envvar and param.envvar.startswith("ARGUS_"), (cmd.name, param.opts)


def test_bash_completion_is_valid_and_completes_commands() -> None:
    path = next(p for p in generated(app) if p.name == "argus.bash")
    script = (
        f"source {path}; COMP_WORDS=(argus expo); COMP_CWORD=1; _argus; echo ${{COMPREPLY[@]}}; "
        "COMP_WORDS=(argus export --ta); COMP_CWORD=2; _argus; echo ${COMPREPLY[@]}"
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["export", "--table"]
