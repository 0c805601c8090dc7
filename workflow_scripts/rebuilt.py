"""The outputs of a run that its manifest found missing, rebuilt before every output is judged again."""

from pathlib import Path

from bgbias.logs import log_to

with log_to(snakemake.log[0]):
    Path(snakemake.output[0]).write_text("".join(f"{path}\n" for path in snakemake.input.outputs))
