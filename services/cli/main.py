"""`ballotdesk`: the composition root. Wires the settings, the database and the processes."""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from sqlmodel import select

from schemas import api
from schemas.enums import Role
from schemas.tables import Committee, User
from schemas.types import utcnow
from services.cli import demo
from services.cli import record as record_cli
from services.cli.running import with_database
from services.platform import heap, migrate
from services.platform.db import Database
from services.platform.settings import Settings
from services.rules.actors import ENV_ADMIN
from services.rules.errors import DomainError
from services.usecases import deadlines, users

log = logging.getLogger("ballotdesk")
SWEEP_SECONDS = 15.0


def embedded_workers(settings: Settings, db: Database) -> Any:
    """Embedded mode: the dramatiq worker, the outbox relay and the scheduler inside `serve`."""
    from workers import scheduler, sealer, webhook_sender
    from workers.runtime import Runtime

    runtime = Runtime(settings, db)

    @asynccontextmanager
    async def run(_: Litestar) -> AsyncIterator[None]:
        runtime.start_worker(threads=2)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(runtime.relay(stop, dispose=False)),
            asyncio.create_task(scheduler.run(db, stop)),
            asyncio.create_task(sealer.run(db, stop)),
            asyncio.create_task(webhook_sender.run(db, settings, stop)),
        ]
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.to_thread(runtime.stop_worker)

    return run


def _print_demo_tokens(issued: Sequence[tuple[demo.DemoUser, str]], base: str, passwords: dict[str, str]) -> None:
    print("\nBallotdesk demo — sign in at " + base + "/login with the e-mail and password, or call the API")
    print("with the bearer token (all valid until the next start):")
    print(f"  {'user':<13} {'e-mail':<30} {'password':<20} {'roles':<22} API token")
    for user, token in issued:
        roles = ", ".join(f"{r.value}{' ' + b if b else ''}" for r, b in user.roles)
        print(f"  {user.key:<13} {user.email:<30} {passwords.get(user.key, ''):<20} {roles:<22} {token}")
    print(f"\nTry:  curl -H 'Authorization: Bearer <token>' {base}/api/v1/ballots?status=open")
    print(f"API description: {base}/schema/openapi.json  ·  {base}/schema/swagger\n")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from services.cli import connections
    from services.http.app import create_app

    migrate.upgrade(settings.database_url)
    db = Database.of(settings)
    if args.demo:

        async def prepare() -> tuple[list[tuple[demo.DemoUser, str]], dict[str, str]]:
            try:
                if await demo.load(db, utcnow()):
                    print("Demo data loaded: ISO/TC 312 Service excellence.")
                return await demo.issue_tokens(db, utcnow()), await demo.issue_passwords(db, utcnow())
            finally:
                await db.dispose()

        tokens, passwords = asyncio.run(prepare())
        _print_demo_tokens(tokens, f"http://{args.host}:{args.port}", passwords)
    lifespan = [embedded_workers(settings, db)] if not settings.broker_url else []
    app = create_app(settings, db=db, lifespan=lifespan)
    heap.freeze_startup_objects()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", **connections.uvicorn_options(settings))
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from services.cli import server

    server.run(args.host, args.port, args.workers, settings)
    return 0


def _worker_process(threads: int, prefetch: int) -> None:
    """One worker process: dramatiq threads plus an outbox relay, until SIGTERM or SIGINT."""
    from services.platform import logs
    from workers import sealer, webhook_sender
    from workers.runtime import BackgroundLoop, Runtime

    # Blocked before any thread starts (threads inherit it): only sigwait below takes the signal.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    settings = Settings.from_env()
    logs.configure(settings)
    runtime = Runtime(settings)
    runtime.start_worker(threads=threads, prefetch=prefetch)
    background = BackgroundLoop()
    background.start(
        runtime.relay(background.stop),
        sealer.run(runtime.db, background.stop),
        webhook_sender.run(runtime.db, settings, background.stop),
    )
    log.info("worker process ready: pid %s, %s threads", os.getpid(), threads)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    log.info("worker stopping: finishing the messages in hand")
    background.shutdown()
    runtime.stop_worker()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.broker_url:
        raise DomainError("Set BALLOTDESK_BROKER_URL (redis://… or amqp://…); `serve` runs its own worker.")
    from multiprocessing import resource_tracker

    # The resource tracker unblocks SIGTERM and SIGINT when it starts (at the first child's start):
    # started first, it cannot undo the blocking that lets sigwait below receive them.
    resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_worker_process, args=(args.threads, args.prefetch), name=f"ballotdesk-worker-{i}")
        for i in range(args.processes)
    ]
    for child in children:
        child.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    for child in children:
        if child.pid:
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join()
    return 0


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    from workers import scheduler, sealer

    async def run(db: Database) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("scheduler ready: sweeping every %s s", args.interval)
        await asyncio.gather(scheduler.run(db, stop, interval=args.interval), sealer.run(db, stop))

    with_database(settings, run)
    return 0


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
    migrate.upgrade(settings.database_url)
    print(f"Database is at the latest schema: {settings.database_url.split('@')[-1]}")
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from services.platform import transfer

    async def run(db: Database) -> transfer.Summary:
        return await transfer.export(db, Path(args.file))

    done = with_database(settings, run)
    print(f"Exported {done.total} rows of {len(done.rows)} tables (schema {done.revision}) to {args.file}.")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from services.platform import transfer

    migrate.upgrade(settings.database_url)

    async def run(db: Database) -> transfer.Summary:
        return await transfer.import_(db, Path(args.file))

    done = with_database(settings, run)
    print(f"Imported {done.total} rows into {len(done.rows)} tables: {settings.database_url.split('@')[-1]}.")
    return 0


def cmd_check(_: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when the database and the broker answer (a health check for workers and schedulers)."""
    from services.platform import readiness

    async def run(db: Database) -> list[readiness.Check]:
        return await readiness.check(db, settings.broker_url)

    checks = with_database(settings, run)
    for check in checks:
        print(f"{check.name}: {'ok' if check.ok else check.detail}")
    return 0 if all(c.ok for c in checks) else 1


def cmd_keygen(args: argparse.Namespace, _: Settings) -> int:
    from pathlib import Path

    from services.platform import signing

    path = Path(args.path)
    if not signing.create_key(path):
        raise DomainError(
            f"{path} exists already; a signing key is never replaced (records signed with it would fail)."
        )
    key = signing.load_key(path)
    print(f"Signing key written to {path} (readable by its owner only), key id {signing.key_id(key)}.")
    print(f"Point BALLOTDESK_SIGNING_KEY at it in every process. Its public key:\n{signing.public_pem(key)}", end="")
    return 0


def cmd_demo(_: argparse.Namespace, settings: Settings) -> int:
    migrate.upgrade(settings.database_url)

    async def run(db: Database) -> bool:
        return await demo.load(db, utcnow())

    print("Demo data loaded." if with_database(settings, run) else "Demo data was already loaded.")
    return 0


def _parse_role(text: str, committees: dict[str, int]) -> api.RoleIn:
    """`delegate:DE`, `secretary:ISO/TC 312`, `admin`, `observer`."""
    name, _, scope = text.partition(":")
    role = Role(name.strip())
    scope = scope.strip()
    if role in users.BODY_ROLES:
        return api.RoleIn(role=role, member_body=scope or None)
    if scope:
        if scope not in committees:
            raise DomainError(f"There is no committee {scope!r}.")
        return api.RoleIn(role=role, committee_id=committees[scope])
    return api.RoleIn(role=role)


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    async def run(db: Database) -> tuple[int, str | None]:
        password_hash = await users.new_password(args.password) if args.password else None
        async with db.transaction() as session:
            refs = {c.reference: c.id for c in (await session.execute(select(Committee))).scalars() if c.id}
            roles = [_parse_role(r, refs) for r in args.role]
            data = api.UserCreate(name=args.name, email=args.email, roles=roles, password=args.password)
            user = await users.create_user(session, ENV_ADMIN, data, utcnow(), password_hash)
            assert user.id is not None
            token = None
            if args.token:
                _, token = await users.issue_token(
                    session,
                    ENV_ADMIN,
                    user.id,
                    "cli",
                    utcnow(),
                    days=settings.token_days,
                    max_days=settings.token_max_days,
                )
            return user.id, token

    user_id, token = with_database(settings, run)
    print(f"User {user_id} created.")
    if token:
        print(f"API token (shown once): {token}")
    return 0


def cmd_tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    async def run(db: Database) -> str:
        async with db.transaction() as session:
            user = (await session.execute(select(User).where(User.email == args.email.lower()))).scalar_one_or_none()
            if user is None or user.id is None:
                raise DomainError(f"There is no user with e-mail {args.email}.")
            _, token = await users.issue_token(
                session,
                ENV_ADMIN,
                user.id,
                args.label,
                utcnow(),
                days=settings.token_days,
                max_days=settings.token_max_days,
            )
            return token

    print(f"API token (shown once): {with_database(settings, run)}")
    return 0


def cmd_sweep(_: argparse.Namespace, settings: Settings) -> int:
    async def run(db: Database) -> deadlines.Sweep:
        return await deadlines.sweep(db)

    done = with_database(settings, run)
    print(f"Opened {done.opened or 'none'}, closed {done.closed or 'none'}.")
    for ballot_id, reason in done.failed:
        print(f"Ballot {ballot_id} could not be handled: {reason}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ballotdesk", description="Ballots and comments for standards committees.")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service (embedded: migrations, API, deadline sweeps in one process)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load the demo data and print demo users' tokens")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)
    api_p = sub.add_parser("api", help="run the HTTP API (production: uvicorn, N processes, BALLOTDESK_* settings)")
    api_p.add_argument("--host", default="127.0.0.1")
    api_p.add_argument("--port", type=int, default=8000)
    api_p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    api_p.set_defaults(func=cmd_api)
    worker = sub.add_parser("worker", help="run dramatiq worker processes (production, with a broker)")
    worker.add_argument("--processes", type=int, default=2)
    worker.add_argument("--threads", type=int, default=4)
    worker.add_argument("--prefetch", type=int, default=0, help="messages prefetched per process (0: dramatiq's)")
    worker.set_defaults(func=cmd_worker)
    scheduler_p = sub.add_parser("scheduler", help="open and close ballots on time, schedule reminders")
    scheduler_p.add_argument("--interval", type=float, default=SWEEP_SECONDS, help="seconds between sweeps")
    scheduler_p.set_defaults(func=cmd_scheduler)
    sub.add_parser("demo", help="load the demo data (once)").set_defaults(func=cmd_demo)
    sub.add_parser("check", help="exit 0 when the database and the broker are reachable").set_defaults(func=cmd_check)
    keygen = sub.add_parser(
        "keygen", help="write a new Ed25519 signing key (PEM, mode 0600) for BALLOTDESK_SIGNING_KEY"
    )
    keygen.add_argument("path")
    keygen.set_defaults(func=cmd_keygen)
    export_p = sub.add_parser("export", help="write the whole database (event log included) to a file")
    export_p.add_argument("file")
    export_p.set_defaults(func=cmd_export)
    import_p = sub.add_parser("import", help="load an export into a new, empty database (e.g. SQLite to PostgreSQL)")
    import_p.add_argument("file")
    import_p.set_defaults(func=cmd_import)
    sub.add_parser("sweep", help="open and close ballots whose time has come").set_defaults(func=cmd_sweep)
    users_p = sub.add_parser("users", help="manage users").add_subparsers(dest="users_command", required=True)
    create = users_p.add_parser("create", help="create a user")
    create.add_argument("--name", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--role", action="append", default=[], help="e.g. delegate:DE, secretary:'ISO/TC 312', admin")
    create.add_argument("--password", default=None)
    create.add_argument("--token", action="store_true", help="also issue an API token")
    create.set_defaults(func=cmd_users_create)
    tokens_p = sub.add_parser("tokens", help="manage API tokens").add_subparsers(dest="tokens_command", required=True)
    tcreate = tokens_p.add_parser("create", help="issue an API token for a user")
    tcreate.add_argument("--email", required=True)
    tcreate.add_argument("--label", default="cli")
    tcreate.set_defaults(func=cmd_tokens_create)
    record_cli.add_commands(sub)
    return p


# Long-running roles, the schema step and the health check: their settings are checked before
# anything starts.
CHECKED_ROLES = ("api", "serve", "worker", "scheduler", "migrate", "check")


def main(argv: Sequence[str] | None = None) -> int:
    from services.platform import config_check, logs

    args = parser().parse_args(argv)
    settings = Settings.from_env()
    logs.configure(settings)
    try:
        if args.command in CHECKED_ROLES:
            config_check.check(settings, args.command)
        result: int = args.func(args, settings)
    except (DomainError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
