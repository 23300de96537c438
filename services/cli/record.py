"""`ballotdesk verify-log`, `export-ballot` and `verify-export`: the tamper-evident record from
the command line (the last one works offline, with only the file and the public key)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from schemas.types import utcnow
from services.cli.running import with_database
from services.platform.db import Database
from services.platform.settings import Settings
from services.rules import chain
from services.rules.actors import ENV_ADMIN
from services.usecases import ledger
from services.views import record


def cmd_verify_log(_: argparse.Namespace, settings: Settings) -> int:
    async def run(db: Database) -> chain.Report:
        return await ledger.verify(db)

    report = with_database(settings, run)
    print(
        f"{report.events} events, {report.sealed} sealed in the chain, {report.unsealed} not yet sealed; "
        f"{report.ballots_checked} closed ballots recomputed."
    )
    if report.legacy:
        print(f"{report.legacy} events predate authenticators (written before migration 0005) and carry none.")
    for finding in report.findings:
        print(f"TAMPERED {finding}")
    print("The record is intact." if report.intact else f"{len(report.findings)} differences found.")
    return 0 if report.intact else 1


def cmd_export_ballot(args: argparse.Namespace, settings: Settings) -> int:
    async def run(db: Database) -> dict[str, object]:
        async with db.transaction() as session:
            return await record.build(session, ENV_ADMIN, args.ballot_id, utcnow())

    text = json.dumps(record.sign(with_database(settings, run), settings), ensure_ascii=False, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"Ballot {args.ballot_id}: signed record written to {args.out}.")
    else:
        sys.stdout.write(text + "\n")
    return 0


def cmd_verify_export(args: argparse.Namespace, _: Settings) -> int:
    try:
        document = json.loads(Path(args.file).read_text(encoding="utf-8"))
        problems = record.verify_export(document, Path(args.public_key).read_bytes())
    except (OSError, ValueError) as exc:  # unreadable file, not JSON, not a public key
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if problems:
        for problem in problems:
            print(f"NOT VERIFIED: {problem}")
        return 1
    ballot = document["record"]["ballot"]
    print(
        f"Verified: {ballot['document']} ({ballot['type']} ballot {ballot['id']}), signed by key "
        f"{document['signature']['key_id']}; {len(document['record']['events'])} events match their chain hashes "
        "and the result matches the votes."
    )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser(
        "verify-log", help="recompute the event hash chain and every closed ballot's result; exit 1 on tampering"
    ).set_defaults(func=cmd_verify_log)
    export = sub.add_parser("export-ballot", help="write the signed record of a closed ballot (JSON)")
    export.add_argument("ballot_id", type=int)
    export.add_argument("--out", default="", help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export_ballot)
    check = sub.add_parser("verify-export", help="check a signed ballot record offline")
    check.add_argument("file")
    check.add_argument("--public-key", required=True, help="the service's public key (PEM), from /api/v1/signing-key")
    check.set_defaults(func=cmd_verify_export)
