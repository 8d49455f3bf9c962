"""The ``alemtrack`` command line: the engine for other programs and for review.

``alemtrack timeline FILE`` and ``alemtrack triage FILE`` read a JSON document
from FILE (``-`` for stdin) and print the engine's JSON answer. Bad input exits
with status 2 and one line on stderr naming the field and the problem.

``alemtrack protocol [--protocol ms] [--language en] [--format html]`` prints the
protocol sheet (server/engine/sheet.py): content/ as a clinical lead reviews and
signs it. An unknown protocol, language or format exits 2 with one line naming
the option.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from .engine.content.loading import default_content
from .engine.content.model import LANGUAGES
from .engine.documents import timeline_document, triage_document
from .engine.errors import ContentError, InputError
from .engine.sheet import FORMATS, build_sheet, render

COMMANDS: dict[str, tuple[Callable, str]] = {
    "timeline": (timeline_document, "print the timeline, lab flags and end of monitoring"),
    "triage": (triage_document, "print the level and reasons of a monthly checklist"),
}


#: the Flask commands of the server (README, "The server"), also reachable as ``alemtrack <command>``
SERVER_COMMANDS = ("init-db", "seed-demo", "create-clinic", "create-user", "clock", "vapid-keys", "run", "routes",
                   "shell")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit 2, as for bad input
        self.exit(2, f"alemtrack: {message}\n")


def _read(path: str) -> object:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise InputError(path, exc.strerror or "cannot be read") from None
    except UnicodeDecodeError:
        raise InputError(path, "is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise InputError(path, "JSON nested too deeply") from None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SERVER_COMMANDS:
        return _server_command(argv)
    parser = _Parser(prog="alemtrack", description="Alemtrack clinical engine",
                     epilog=f"Server commands ({', '.join(SERVER_COMMANDS)}) are those of "
                            "'flask --app server'.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("file", metavar="FILE", help="JSON input, or - for stdin")
    sheet = commands.add_parser("protocol", help="print the protocol sheet a clinical lead reviews and signs")
    sheet.add_argument("--protocol", default="ms", help="the protocol of content/: ms (default) or cll")
    sheet.add_argument("--language", default="en", help=f"one of {', '.join(LANGUAGES)} (default: en)")
    sheet.add_argument("--format", default="html", help=f"one of {', '.join(FORMATS)} (default: html)")
    args = parser.parse_args(argv)
    if args.command == "protocol":
        return _protocol(args)
    run, _ = COMMANDS[args.command]
    try:
        answer = run(_read(args.file), default_content())
    except InputError as exc:
        print(f"alemtrack {args.command}: {exc}", file=sys.stderr)
        return 2
    except ContentError as exc:  # a broken installation, not the user's input
        print(f"alemtrack: {exc}", file=sys.stderr)
        return 1
    try:
        json.dump(answer, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        sys.stderr.close()
    return 0


def _protocol(args: argparse.Namespace) -> int:
    try:
        content = default_content()
    except ContentError as exc:
        print(f"alemtrack: {exc}", file=sys.stderr)
        return 1
    for option, value, known in (("--protocol", args.protocol, tuple(sorted(content.protocols))),
                                 ("--language", args.language, LANGUAGES), ("--format", args.format, FORMATS)):
        if value not in known:
            print(f"alemtrack protocol: {option}: {value!r} is not one of {', '.join(known)}", file=sys.stderr)
            return 2
    return _write(render(build_sheet(content.of(args.protocol), args.language), args.format))


def _write(text: str) -> int:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        sys.stderr.close()
    return 0


def _server_command(argv: list[str]) -> int:
    """``alemtrack init-db`` and the rest: the Flask command line of the server."""
    from flask.cli import FlaskGroup

    from . import create_app
    from .config import ConfigError

    group = FlaskGroup(create_app=create_app)
    try:
        return group.main(args=argv, prog_name="alemtrack", standalone_mode=True) or 0
    except ConfigError as exc:
        print(f"alemtrack: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
