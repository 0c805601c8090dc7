"""Experiments side by side: the comparison table of an experiment's setups. Stage: `comparison_tables`."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from bgbias.colour.tables import SUMMARY_METRICS
from bgbias.stats import Summary
from bgbias.storage import read_table, write_csv_markdown

log = logging.getLogger("bgbias")
COMPARED_METRICS = ("accuracy", "unbiased_accuracy", "bias_conflicting_accuracy")  # in the Markdown


def comparison_table(summaries: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The summary tables of several setups in one long table, with a `setup` column first."""
    parts = [summary.assign(setup=setup) for setup, summary in summaries.items()]
    table = pd.concat(parts, ignore_index=True)
    return table[["setup", *(column for column in table.columns if column != "setup")]]


def comparison_markdown(table: pd.DataFrame, *, title: str, description: str) -> str:
    """Per metric, models x test sets rows and one column per setup: `mean ± std (n, 95 % CI)`."""
    parts = [f"# {title}\n", f"{description}\n" if description else ""]
    setups = list(dict.fromkeys(table["setup"]))
    for name in (m for m in SUMMARY_METRICS if m in COMPARED_METRICS):
        rows = table[table["metric"] == name]
        if rows.empty:
            continue
        cells = rows.assign(
            cell=[Summary(r.mean, r.std, r.n, r.ci95_low, r.ci95_high).text() for r in rows.itertuples()],
            row=rows["model"] + " on " + rows["test_set"],
        )
        wide = cells.pivot(index="row", columns="setup", values="cell")
        wide = wide.loc[list(dict.fromkeys(cells["row"])), setups].fillna("–")
        parts += [f"## {name}\n", wide.to_markdown() + "\n"]
    return "\n".join(part for part in parts if part)


def comparison_tables(
    summaries: list[str], *, setups: list[str], title: str, description: str, csv: Path, md: Path
) -> None:
    """Stage: the summary tables of an experiment's setups (`summaries[i]` of `setups[i]`) side by side."""
    table = comparison_table({setup: read_table(path, ["model", "test_set", "metric"]) for setup, path in zip(setups, summaries)})
    markdown = comparison_markdown(table, title=title, description=description)
    write_csv_markdown(table, markdown, csv=csv, md=md, inputs=summaries)
    log.info("comparison of %d setups: %d rows", len(setups), len(table))
