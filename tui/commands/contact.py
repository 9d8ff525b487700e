"""``xueji-duty contact list|add|edit|remove|import|export|tree``: the school's phone list."""
from __future__ import annotations

import argparse

from models.calltree import set_tree, situation_name, situations, step_label, steps, tree_version
from models.contacts import (add_contact, contact_json, edit_contact, ensure_seeded, get_contact, grouped,
                             list_contacts, remove_contact, seed_if_possible)
from models.contacts_csv import export_csv, import_csv, roles_help
from models.i18n import t
from tui.env import print_json

FIELDS = ("name", "role", "department", "mobile", "office", "notes", "quiet_hours", "sort", "active")


def register(sub, add_common) -> None:
    p = sub.add_parser("contact", help=t("cli.contact.help"))
    add_common(p)
    csub = p.add_subparsers(dest="contact_cmd", required=True, parser_class=type(p))

    ls = csub.add_parser("list", help=t("cli.contact.list"))
    add_common(ls)
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)

    add = csub.add_parser("add", help=t("cli.contact.add"), epilog=t("cli.contact.roles", roles=roles_help()))
    add_common(add)
    _field_args(add, role_required=True)
    add.add_argument("--json", action="store_true", help=t("cli.json"))
    add.set_defaults(func=cmd_add)

    ed = csub.add_parser("edit", help=t("cli.contact.edit"), epilog=t("cli.contact.roles", roles=roles_help()))
    add_common(ed)
    ed.add_argument("contact", help=t("cli.contact.ref"))
    _field_args(ed, role_required=False)
    ed.add_argument("--version", type=int, help=t("cli.contact.version"))
    ed.add_argument("--json", action="store_true", help=t("cli.json"))
    ed.set_defaults(func=cmd_edit)

    rm = csub.add_parser("remove", help=t("cli.contact.remove"))
    add_common(rm)
    rm.add_argument("contact", help=t("cli.contact.ref"))
    rm.add_argument("--version", type=int, help=t("cli.contact.version"))
    rm.set_defaults(func=cmd_remove)

    im = csub.add_parser("import", help=t("cli.contact.import"))
    add_common(im)
    im.add_argument("file")
    im.add_argument("--encoding", help=t("cli.contact.encoding"))
    im.set_defaults(func=cmd_import)

    ex = csub.add_parser("export", help=t("cli.contact.export"))
    add_common(ex)
    ex.add_argument("file")
    ex.set_defaults(func=cmd_export)

    tr = csub.add_parser("tree", help=t("cli.contact.tree"))
    add_common(tr)
    tsub = tr.add_subparsers(dest="tree_cmd", required=True, parser_class=type(p))
    show = tsub.add_parser("show", help=t("cli.contact.tree_show"))
    add_common(show)
    show.add_argument("situation", nargs="?")
    show.add_argument("--json", action="store_true", help=t("cli.json"))
    show.set_defaults(func=cmd_tree_show)
    st = tsub.add_parser("set", help=t("cli.contact.tree_set"), epilog=t("cli.contact.roles", roles=roles_help()))
    add_common(st)
    st.add_argument("situation")
    st.add_argument("steps", nargs="+", help=t("cli.contact.tree_steps"))
    st.add_argument("--version", type=int, help=t("cli.contact.version"))
    st.set_defaults(func=cmd_tree_set)


def _field_args(p: argparse.ArgumentParser, role_required: bool) -> None:
    p.add_argument("--role", required=role_required)
    p.add_argument("--name")
    p.add_argument("--department")
    p.add_argument("--mobile")
    p.add_argument("--office")
    p.add_argument("--notes")
    p.add_argument("--quiet-hours", dest="quiet_hours", help="22:00-07:00")
    p.add_argument("--sort")
    p.add_argument("--active", help=t("cli.contact.active"))


def _given(args) -> dict:
    return {f: getattr(args, f) for f in FIELDS if getattr(args, f, None) is not None}


def _line(c) -> str:
    parts = [f"#{c.id}", c.name or t("contacts.unnamed"), c.mobile or "-", c.office or "-"]
    if c.quiet_hours:
        parts.append(t("contacts.quiet", hours=c.quiet_hours))
    if not c.active:
        parts.append(t("contacts.inactive"))
    if c.notes:
        parts.append(c.notes)
    return "  ".join(parts)


def cmd_list(env) -> int:
    ctx = env.context()
    seed_if_possible(ctx)
    rows = list_contacts()
    if env.args.json:
        print_json([contact_json(c) for c in rows])
        return 0
    upstream_shown = False
    for spec, people in grouped(rows):
        if spec.upstream and not upstream_shown:
            print(t("contacts.upstream"))
            upstream_shown = True
        print(f"{spec.name}")
        for c in people:
            print("  " + _line(c))
        if not people:
            print("  " + t("contacts.none_for_role"))
    return 0


def cmd_add(env) -> int:
    ctx = env.context(write=True)
    ensure_seeded(ctx)
    c = add_contact(ctx, _given(env.args))
    if env.args.json:
        print_json(contact_json(c))
    else:
        print(t("cli.contact.added", line=_line(c)))
    return 0


def cmd_edit(env) -> int:
    ctx = env.context(write=True)
    ensure_seeded(ctx)
    c = edit_contact(ctx, env.args.contact, _given(env.args), expected_version=env.args.version)
    if env.args.json:
        print_json(contact_json(c))
    else:
        print(t("cli.contact.saved", line=_line(c)))
    return 0


def cmd_remove(env) -> int:
    ctx = env.context(write=True)
    c = get_contact(env.args.contact)
    label = _line(c)
    remove_contact(ctx, c.id, expected_version=env.args.version)
    print(t("cli.contact.removed", line=label))
    return 0


def cmd_import(env) -> int:
    ctx = env.context(write=True)
    ensure_seeded(ctx)
    res = import_csv(ctx, env.args.file, encoding=env.args.encoding)
    print(t("cli.contact.imported", added=len(res.added), updated=len(res.updated), unchanged=res.unchanged,
            skipped=res.skipped, encoding=res.encoding.upper()))
    return 0


def cmd_export(env) -> int:
    ctx = env.context()
    seed_if_possible(ctx)
    n = export_csv(env.args.file)
    print(t("cli.contact.exported", n=n, path=env.args.file))
    return 0


def cmd_tree_show(env) -> int:
    ctx = env.context()
    seed_if_possible(ctx)
    wanted = [env.args.situation] if env.args.situation else situations()
    data = []
    for sit in wanted:
        rows = steps(sit)
        data.append({"situation": sit, "name": situation_name(sit), "version": tree_version(sit),
                     "steps": [{"position": s.position, "role": s.role, "contact": s.contact_id,
                                "label": step_label(s)} for s in rows]})
    if env.args.json:
        print_json(data)
        return 0
    for tree in data:
        print(f"{tree['name']} ({tree['situation']}, v{tree['version']})")
        if not tree["steps"]:
            print("  " + t("contacts.tree_empty"))
        for s in tree["steps"]:
            ref = f"#{s['contact']}" if s["contact"] else s["role"]
            print(f"  {s['position']}. {s['label']}  [{ref}]")
    return 0


def cmd_tree_set(env) -> int:
    ctx = env.context(write=True)
    ensure_seeded(ctx)
    rows = set_tree(ctx, env.args.situation, env.args.steps, expected_version=env.args.version)
    print(t("cli.contact.tree_saved", situation=situation_name(env.args.situation),
            steps=" → ".join(step_label(s) for s in rows)))
    return 0

