"""Plain-text rendering of reject-threshold tuning results for the terminal.

The numbers are the ones in :meth:`~taskclf.tune.sweep.TuneResult.to_dict`
(the ``--format json`` output); this module only lays them out: rates as
percentages, accuracy and macro-F1 with four decimals, ``-`` where there is
no value, the chosen row marked with ``*`` and ``<- chosen``. With a
certification (``--target-accuracy``), the tables gain a ``lower bound``
column (each threshold's Clopper-Pearson bound) and certified thresholds
are noted ``certified``.
"""

from __future__ import annotations

from collections.abc import Sequence

from taskclf.tune.sweep import (
    CERTIFICATION_ASSUMPTION,
    SweepResult,
    ThresholdStats,
    TuneResult,
    UserSweep,
)

__all__ = ["format_sweep_table", "format_threshold", "format_tune_report", "format_user_table"]

_CHOSEN_MARK = "*"
_CHOSEN_NOTE = "<- chosen"
_CERTIFIED_NOTE = "certified"
_NONE = "-"


def format_sweep_table(result: SweepResult | TuneResult) -> str:
    """The sweep as an aligned table, one line per candidate threshold.

    The chosen threshold's line starts with ``*`` and ends with ``<- chosen``;
    no line is marked when nothing was chosen. No trailing newline.
    """
    sweep = result.sweep if isinstance(result, TuneResult) else result
    bounds = sweep.certification is not None
    header = ["", "threshold", "rejected", "accepted", "reject rate", "coverage"]
    header += ["accuracy", "macro-F1"] + (["lower bound"] if bounds else []) + [""]
    rows = [header]
    for entry in sweep.stats:
        chosen = entry is sweep.chosen
        note = _CHOSEN_NOTE if chosen else ""
        if sweep.certified(entry):
            note = f"{_CERTIFIED_NOTE} {note}".rstrip()
        rows.append(
            [
                _CHOSEN_MARK if chosen else "",
                format_threshold(entry.threshold),
                str(entry.rejected),
                str(entry.accepted),
                _percent(entry.reject_rate),
                _percent(entry.coverage),
                _score(entry.accuracy),
                _score(entry.macro_f1),
                *([_score(sweep.bound_of(entry))] if bounds else []),
                note,
            ]
        )
    return _layout(rows)


def format_user_table(result: TuneResult) -> str:
    """The per-user results: one line per user tuned, then skipped users.

    Users with no threshold within the bounds show ``-`` and a note (the
    global threshold applies to them). Empty when tuning was not per user.
    """
    if result.min_user_samples is None:
        return ""
    if result.sweep.certification is not None:
        return _certified_user_table(result)
    rows = [["user", "rows", "threshold", "reject rate", "accuracy", "macro-F1", ""]]
    for user in result.per_user:
        chosen = user.sweep.chosen
        rows.append([user.user_id, str(user.sweep.total), *_chosen_cells(chosen)])
    lines = []
    if result.per_user:
        lines.append(_layout(rows))
    else:
        lines.append(f"no user has {result.min_user_samples} or more rows")
    lines += _user_footer(result)
    return "\n".join(lines)


def _user_footer(result: TuneResult) -> list[str]:
    """The lines under every per-user table: users skipped for too few rows, rows without one."""
    lines = []
    if result.skipped_users:
        skipped = ", ".join(f"{user.user_id} ({user.rows})" for user in result.skipped_users)
        lines.append(f"skipped, fewer than {result.min_user_samples} rows: {skipped}")
    if result.rows_without_user:
        lines.append(f"rows without user_id: {result.rows_without_user}")
    return lines


def _certified_user_table(result: TuneResult) -> str:
    """Per-user table of a certified choice; users with nothing certified listed after it."""
    rows = [["user", "rows", "threshold", "reject rate", "accuracy", "lower bound"]]
    uncertified: list[UserSweep] = []
    for user in result.per_user:
        chosen = user.sweep.chosen
        if chosen is None:
            uncertified.append(user)
            continue
        rows.append(
            [
                user.user_id,
                str(user.sweep.total),
                format_threshold(chosen.threshold),
                _percent(chosen.reject_rate),
                _score(chosen.accuracy),
                _score(user.sweep.bound_of(chosen)),
            ]
        )
    lines = []
    if len(rows) > 1:
        lines.append(_layout([[*row, ""] for row in rows]))
    elif not result.per_user:
        lines.append(f"no user has {result.min_user_samples} or more rows")
    if uncertified:
        lines.append("nothing certified on their own rows (the global threshold applies to them):")
        for user in uncertified:
            certification = user.sweep.certification
            assert certification is not None
            where = (
                "no accepted row"
                if certification.best_bound is None or certification.best_threshold is None
                else f"best bound {_score(certification.best_bound)} at threshold "
                f"{format_threshold(certification.best_threshold)}"
            )
            lines.append(f"  {user.user_id} ({_rows(user.sweep.total)}): {where}")
    lines += _user_footer(result)
    return "\n".join(lines)


def _certified_summary(result: TuneResult) -> str:
    sweep = result.sweep
    certification = sweep.certification
    chosen = sweep.chosen
    assert certification is not None and chosen is not None
    limit = (
        "no reject-rate limit"
        if sweep.reject_rate_max >= 1.0
        else f"reject rate at most {_percent(sweep.reject_rate_max)}"
    )
    per_user = " (per user: on each user's own rows)" if result.min_user_samples else ""
    return (
        f"chosen reject threshold: {format_threshold(chosen.threshold)}, certified: accuracy on "
        f"accepted rows at least {certification.target_accuracy:g} with probability at least "
        f"{1 - certification.delta:g} (lower bound {_score(certification.chosen_bound)}, observed "
        f"{_score(chosen.accuracy)}; rejects {_percent(chosen.reject_rate)} of "
        f"{_rows(sweep.total)}; {limit})\n"
        f"the guarantee holds{per_user} if {CERTIFICATION_ASSUMPTION}"
    )


def format_tune_report(result: TuneResult) -> str:
    """The full text report: a summary line, the sweep table, then the per-user part."""
    sweep = result.sweep
    chosen = sweep.chosen
    assert chosen is not None  # a TuneResult always has one
    if sweep.certification is not None:
        parts = [_certified_summary(result), "", format_sweep_table(sweep)]
        users = format_user_table(result)
        return "\n".join(parts + (["", users] if users else []))
    summary = (
        f"chosen reject threshold: {format_threshold(chosen.threshold)} "
        f"(rejects {_percent(chosen.reject_rate)} of {_rows(sweep.total)}; accuracy on "
        f"accepted rows {_score(chosen.accuracy)}, macro-F1 {_score(chosen.macro_f1)}; "
        f"allowed reject rate {_percent(sweep.reject_rate_min)} to "
        f"{_percent(sweep.reject_rate_max)})"
    )
    parts = [summary, "", format_sweep_table(sweep)]
    users = format_user_table(result)
    if users:
        parts += ["", users]
    return "\n".join(parts)


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def format_threshold(value: float) -> str:
    """A threshold with at least two and at most six decimals: ``0.10``, ``0.125``."""
    text = f"{value:.6f}".rstrip("0")
    decimals = len(text.partition(".")[2])
    return text + "0" * max(0, 2 - decimals)


def _chosen_cells(chosen: ThresholdStats | None) -> list[str]:
    if chosen is None:
        return [_NONE, _NONE, _NONE, _NONE, "no threshold within bounds"]
    return [
        format_threshold(chosen.threshold),
        _percent(chosen.reject_rate),
        _score(chosen.accuracy),
        _score(chosen.macro_f1),
        "",
    ]


def _percent(value: float) -> str:
    return f"{value:.1%}"


def _score(value: float | None) -> str:
    return _NONE if value is None else f"{value:.4f}"


def _layout(rows: Sequence[Sequence[str]]) -> str:
    # The first and last columns (marks, user ids, notes) are left-aligned,
    # the numbers between them right-aligned; trailing blanks are dropped.
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    last = len(widths) - 1
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if column in (0, last) else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
