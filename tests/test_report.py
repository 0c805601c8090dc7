"""The HTML report of a tiny `study` run: captions render without a docutils warning, and in headless Chromium the
report shows every category the table registry gives the run and the experiment's claims table."""

from __future__ import annotations

import base64
import csv
import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import clone_run, run_snakemake
from bgbias.grid import TABLES, tables_of

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
STUDY = ("results/study/all", "--config", "seeds=[0]")  # both setups of the notes, one seed
FIGURE_CATEGORIES = {"Datasets", "Training curves", "Confusion matrices"}
# Clicks a category of the report's menu once the app has rendered, then records the CSV links it lists
CLICK = """<script>
setTimeout(() => {
  const item = [...document.querySelectorAll('a,button,li,span,div')].filter(e => e.textContent.trim() === %s).pop();
  if (item) item.click();
}, 1000);
setTimeout(() => {
  const links = [...document.querySelectorAll('a[href^="data:text/csv"]')].map(a => a.getAttribute('href'));
  document.body.setAttribute('data-csv', links.join(' '));
}, 2500);
</script>"""


@pytest.fixture(scope="session")
def study_report(finished_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A tiny run of the study experiment (a copy of the finished run, its MNIST files reused) and its report: the
    HTML file and what Snakemake printed while writing it."""
    run = clone_run(finished_run, tmp_path_factory.mktemp("study") / "workflow")
    run_snakemake(run, *STUDY, "--cores", "2")
    printed = run_snakemake(run, *STUDY, "--report", "results/study-report.html")
    return run / "results/study-report.html", printed.stdout + printed.stderr


def rendered(report: Path, category: str, folder: Path) -> str:
    """The DOM of the report after headless Chromium ran its scripts and clicked `category` in the menu."""
    text = report.read_text()
    head, body_end, tail = text.rpartition("</body>")
    clicked = folder / "clicked.html"
    clicked.write_text(head + CLICK % repr(category) + body_end + tail)
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000", "--dump-dom",
         clicked.as_uri()], capture_output=True, text=True, timeout=120, check=True,
    ).stdout


def test_captions_render_without_docutils_warnings(study_report: tuple[Path, str]) -> None:
    _, printed = study_report
    assert "Report created" in printed
    assert not re.findall(r".*\(WARNING/\d\).*", printed), printed[-3000:]


def test_every_table_has_a_caption_file() -> None:
    report = Path(__file__).resolve().parents[1] / "report"
    assert [name for name in TABLES if not (report / f"{name}.rst").is_file()] == []


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_chromium_shows_every_category_and_the_claims_table(study_report: tuple[Path, str], tmp_path: Path) -> None:
    report, _ = study_report
    start = rendered(report, "(no such category)", tmp_path)  # the menu as it opens
    menu = html.unescape(re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", start, flags=re.S))
    expected = FIGURE_CATEGORIES | {table.category for table in tables_of("colour")}
    expected |= {TABLES[name].category for name in ("comparison", "claims")}
    assert {category for category in expected if category not in menu} == set()
    assert TABLES["forgetting"].category not in menu  # the study runs no attack

    dom = rendered(report, TABLES["claims"].category, tmp_path)
    links = re.search(r'data-csv="([^"]*)"', dom).group(1).split()
    claims = [link for link in links if "filename=claims.csv" in html.unescape(link)]
    assert len(claims) == 1, links
    table = list(csv.DictReader(io.StringIO(base64.b64decode(html.unescape(claims[0]).split("base64,", 1)[1]).decode())))
    assert list(table[0]) == ["claim", "band", "initial", "later"]
    assert len(table) == 7 and table[2]["claim"] == "pool-paired reaches about 0.98 on a pool test set"
    assert all(row["initial"].endswith("undecided (one seed: no interval)") for row in table)
