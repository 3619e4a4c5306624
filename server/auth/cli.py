"""`tsunagu users …`: create the first administrator and manage accounts from the shell."""

from __future__ import annotations

import getpass
import sys

from pydantic import ValidationError
from sqlmodel import Session, select

from ..models.auth import Role, User, UserCreate
from .municipalities import installed
from .service import create_user


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("パスワード / password (10+ characters): ")
    second = getpass.getpass("もう一度 / again: ")
    if first != second:
        raise SystemExit("passwords differ")
    return first


def _create(args, settings, role: str) -> int:
    from ..db import make_engine
    from ..migrate import upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    password = _read_password(args)
    try:
        data = UserCreate(username=args.username, password=password, role=role,
                          display_name=args.display_name or args.username,
                          municipality_codes=args.municipality or [])
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            print(f"error: {'.'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr)
        return 2
    with Session(engine) as session:
        if getattr(args, "all_municipalities", False):
            data.municipality_codes = installed(session)
        try:
            user = create_user(session, data)
        except (ValueError, LookupError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        from .audit import record

        record(session, "create", username="(cli)", resource="users", record_ids=[user.id], detail=f"role={role}")
        session.commit()
        print(f"created {role} {user.username} ({user.id})")
    return 0


def cmd_create_admin(args, settings) -> int:
    return _create(args, settings, Role.admin.value)


def cmd_create(args, settings) -> int:
    return _create(args, settings, args.role)


def cmd_list(args, settings) -> int:
    from ..db import make_engine

    engine = make_engine(settings.database_url)
    with Session(engine) as session:
        for user in session.exec(select(User).order_by(User.role, User.username)).all():
            state = "active" if user.active else "disabled"
            print(f"{user.username:24} {user.role:20} {state}")
    return 0


def add_users_parser(subparsers) -> None:
    users = subparsers.add_parser("users", help="manage accounts")
    sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    for name, helptext, func in (("create-admin", "create an administrator (the first account)", cmd_create_admin),
                                 ("create", "create an account with a role", cmd_create)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("username")
        if name == "create":
            p.add_argument("--role", required=True, choices=[r.value for r in Role])
        p.add_argument("--display-name", default="")
        p.add_argument("--municipality", action="append", metavar="CODE",
                       help="the account's municipality (市区町村コード; repeat for a prefecture role); "
                            "needed when the installation has several")
        if name == "create-admin":
            p.add_argument("--all-municipalities", action="store_true",
                           help="an administrator of the whole installation (several municipalities)")
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        p.set_defaults(func=func)
    lst = sub.add_parser("list", help="list accounts (no secrets)")
    lst.set_defaults(func=cmd_list)
