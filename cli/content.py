"""Generate man/argus.1 and the bash, zsh and fish completions from the typer app.

`python -m argus.cli.content` rewrites them; `--check` exits 1 when a committed file differs
from what the app would generate (a test runs the check).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import typer

from argus import __version__

ROOT = Path(__file__).resolve().parent.parent
MAN_DATE = date(2026, 11, 28)  # bump by hand on a release; generation must be reproducible


@dataclass(frozen=True)
class Param:
    opts: tuple[str, ...]
    help: str
    envvar: str | None
    default: Any
    required: bool
    is_flag: bool
    is_argument: bool
    choices: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    params: tuple[Param, ...]


def _param(p: Any) -> Param:
    td = getattr(p, "type_descriptor", None)
    choices = tuple(str(c) for c in (td.choices or ())) if td is not None and td.is_choice else ()
    default = getattr(p.default, "value", p.default)
    return Param(
        opts=tuple(p.opts) + tuple(p.secondary_opts),
        help=(p.help or "") if hasattr(p, "help") else "",
        envvar=p.envvar if isinstance(p.envvar, str) else None,
        default=default,
        required=bool(p.required),
        is_flag=bool(getattr(p, "is_flag", False)),
        is_argument=p.param_type_name == "argument",
        choices=choices,
        name=p.name,
    )


def commands(app: typer.Typer) -> list[Command]:
    """Every command of the app with its parameters, in registration order."""
    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        params = tuple(_param(p) for p in cmd.params if p.name != "help")
        summary = (cmd.help or "").strip().split("\n\n")[0].replace("\n", " ")
        out.append(Command(name, summary, params))
    return out


def _roff(text: str) -> str:
    return text.replace("\\", "\\\\").replace("-", "\\-").replace("'", "\\(aq")


def _synopsis(cmd: Command) -> str:
    args = " ".join(p.name.upper() for p in cmd.params if p.is_argument)
    return f"argus {cmd.name} [OPTIONS] {args}".rstrip()


def _man_param(p: Param) -> list[str]:
    if p.is_argument:
        head = f"\\fI{p.name.upper()}\\fR"
    else:
        value = (
            "" if p.is_flag else " " + ("{" + ",".join(p.choices) + "}" if p.choices else "VALUE")
        )
        head = ", ".join(f"\\fB{_roff(o)}\\fR" for o in p.opts) + _roff(value)
    notes = []
    if p.required:
        notes.append("required")
    elif p.default not in (None, False, "") and not p.is_argument:
        notes.append(f"default: {p.default}")
    if p.envvar:
        notes.append(f"env: {p.envvar}")
    detail = _roff(p.help) + (f" ({_roff('; '.join(notes))})" if notes else "")
    return [".TP", head, detail or "."]


def render_man(cmds: list[Command]) -> str:
    lines = [
        f'.TH ARGUS 1 "{MAN_DATE:%Y-%m-%d}" "argus {__version__}" "Argus manual"',
        ".SH NAME",
        "argus \\- predictive monitoring for server fleets",
        ".SH SYNOPSIS",
        "\\fBargus\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
        ".SH DESCRIPTION",
        "Argus ingests server metrics, forecasts every server 8 hours ahead with a Temporal Fusion "
        "Transformer, turns forecasts into risk scores and alerts, and serves them over REST. "
        "\\fBargus serve\\fR runs the daemon; the other commands talk to it over HTTP or work "
        "on files.",
        ".SH COMMANDS",
    ]
    for cmd in cmds:
        lines += [".SS " + _roff(_synopsis(cmd)), _roff(cmd.help)]
        for p in cmd.params:
            lines += _man_param(p)
    lines += [
        ".SH ENVIRONMENT",
        "Every option can also be set by the environment variable named after it. The daemon's "
        "settings are ARGUS_<SETTING> (see docs/configuration.md); the API key is ARGUS_API_KEY "
        "or TACHYON_API_KEY.",
        ".SH FILES",
        ".TP",
        "\\fI$XDG_CONFIG_HOME/argus/config.toml\\fR",
        "Config file (flags > environment > this file > defaults).",
        ".TP",
        "\\fI$ARGUS_HOME\\fR or \\fI$XDG_DATA_HOME/argus\\fR",
        "Data directory: argus.duckdb, the key file .tachyon_key (mode 0600), models/, and "
        "argus.runtime.json while the daemon runs; argus.demo.json (mode 0600) while an argus "
        "demo runs, so the CLI finds the demo's daemon and key.",
        ".SH EXIT STATUS",
        "0 success. 1 an error: no daemon answers, it refused the API key, or it answered with "
        "an error (an unknown server, invalid data, a model it cannot load); a file or model "
        "that cannot be used; no running demo for argus scenario. 2 a usage or configuration "
        "error: an unknown option, a value out of range, an invalid config file. 130 "
        "interrupted.",
        ".SH SEE ALSO",
        "The REST API: GET /openapi.json on a running daemon.",
    ]
    return "\n".join(lines) + "\n"


SERVERS = "argus servers 2>/dev/null"  # names from the running daemon (nothing when none runs)


def _is_server(p: Param) -> bool:
    return p.name == "server"


def _words(cmd: Command) -> str:
    """What to offer after the command: its options, and its argument's choices or servers."""
    words = [o for p in cmd.params if not p.is_argument for o in p.opts] + ["--help"]
    for p in cmd.params:
        if p.is_argument:
            words += list(p.choices) + (["$(" + SERVERS + ")"] if _is_server(p) else [])
    return " ".join(words)


def _bash_values(cmds: list[Command]) -> str:
    """`case` lines for the value after an option: its choices, server names, or files."""
    lines, free = [], []
    for c in cmds:
        for p in c.params:
            if p.is_argument or p.is_flag:
                continue
            pattern = "|".join(f"{c.name}:{o}" for o in p.opts)
            if p.choices:
                lines.append(f'        {pattern}) opts="{" ".join(p.choices)}" ;;')
            elif _is_server(p):
                lines.append(f'        {pattern}) opts="$({SERVERS})" ;;')
            else:
                free.append(pattern)
    # Any other value (a number, a file, a URL): bash's default completion (file names).
    lines.append("        " + " | \\\n        ".join(free) + ") return ;;")
    return "\n".join(lines)


def render_bash(cmds: list[Command]) -> str:
    names = " ".join(c.name for c in cmds)
    cases = "\n".join(f'        {c.name}) opts="{_words(c)}" ;;' for c in cmds)
    return f"""# bash completion for argus (generated by `python -m argus.cli.content`)
_argus() {{
    local cur prev cmd opts
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "{names} --help" -- "$cur"))
        return
    fi
    cmd="${{COMP_WORDS[1]}}"
    case "$cmd:$prev" in
{_bash_values(cmds)}
        *)
            case "$cmd" in
{cases}
                *) opts="" ;;
            esac ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}}
complete -o default -F _argus argus
"""


def _zsh_text(text: str) -> str:
    return text.replace("'", "'\\''").replace("[", "(").replace("]", ")").replace(":", "\\:")


def _zsh_action(p: Param) -> str:
    if p.choices:
        return f"({' '.join(p.choices)})"
    return "_argus_servers" if _is_server(p) else ("_files" if not p.is_argument else "")


def render_zsh(cmds: list[Command]) -> str:
    described = "\n".join(f"        '{c.name}:{_zsh_text(c.help)}'" for c in cmds)
    cases = []
    for c in cmds:
        specs = []
        for p in c.params:
            if p.is_argument:
                specs.append(f"'1:{p.name}:{_zsh_action(p)}'")
                continue
            for opt in p.opts:
                value = "" if p.is_flag else f":value:{_zsh_action(p)}"
                specs.append(f"'{opt}[{_zsh_text(p.help)}]{value}'")
        joined = " \\\n                ".join(specs) if specs else ""
        cases.append(f"        {c.name})\n            _arguments {joined}\n            ;;")
    body = "\n".join(cases)
    return f"""#compdef argus
# zsh completion for argus (generated by `python -m argus.cli.content`)
_argus_servers() {{
    local -a names
    names=(${{(f)"$({SERVERS})"}})
    compadd -a names
}}

_argus() {{
    local -a commands
    commands=(
{described}
    )
    if (( CURRENT == 2 )); then
        _describe 'command' commands
        return
    fi
    shift words
    (( CURRENT-- ))
    case "$words[1]" in
{body}
    esac
}}
_argus "$@"
"""


def _fish_values(p: Param) -> str:
    if p.choices:
        return f" -a '{' '.join(p.choices)}'"
    return f" -a '({SERVERS})'" if _is_server(p) else ""


def render_fish(cmds: list[Command]) -> str:
    lines = [
        "# fish completion for argus (generated by `python -m argus.cli.content`)",
        "complete -c argus -f",
    ]
    for c in cmds:
        desc = c.help.replace("'", "\\'")
        seen = f"-n '__fish_seen_subcommand_from {c.name}'"
        lines.append(f"complete -c argus -n __fish_use_subcommand -a {c.name} -d '{desc}'")
        for p in c.params:
            if p.is_argument:
                if p.choices or _is_server(p):
                    lines.append(f"complete -c argus {seen}{_fish_values(p)}")
                continue
            for opt in p.opts:
                flag = f"-l {opt[2:]}" if opt.startswith("--") else f"-s {opt[1:]}"
                extra = "" if p.is_flag else " -r" + (_fish_values(p) or " -F")
                help_text = p.help.replace("'", "\\'")
                lines.append(f"complete -c argus {seen} {flag}{extra} -d '{help_text}'")
    return "\n".join(lines) + "\n"


def generated(app: typer.Typer) -> dict[Path, str]:
    """Every generated file and its content."""
    cmds = commands(app)
    return {
        ROOT / "man" / "argus.1": render_man(cmds),
        ROOT / "completions" / "argus.bash": render_bash(cmds),
        ROOT / "completions" / "argus.zsh": render_zsh(cmds),
        ROOT / "completions" / "argus.fish": render_fish(cmds),
    }


def stale_files(app: typer.Typer) -> list[Path]:
    """Generated files whose committed content differs from the app's."""
    return [
        path
        for path, text in generated(app).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    args = parser.parse_args(argv)
    from argus.cli.main import app

    if args.check:
        stale = stale_files(app)
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in generated(app).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
