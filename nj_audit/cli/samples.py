"""`nj-audit samples generate`: a realistic batch of uploads and its registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .app import DebugOption, errors_handled


def samples_generate(
    outdir: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="Folder to write the batch into.")
    ],
    institutions: Annotated[
        int, typer.Option(metavar="N", help="Number of institutions.", min=1)
    ] = 12,
    rows: Annotated[int, typer.Option(metavar="N", help="Rows in all (about).", min=1)] = 20_000,
    period: Annotated[
        str, typer.Option(metavar="PERIOD", help="Period of the events: 2022, 2022-03, ...")
    ] = "2022-03",
    seed: Annotated[
        int, typer.Option(metavar="N", help="Random seed (same seed, same batch).")
    ] = 0,
    realtime_share: Annotated[
        float | None,
        typer.Option(metavar="SHARE", help="Share of real-time uploads for every institution."),
    ] = None,
    correction_share: Annotated[
        float, typer.Option(metavar="SHARE", help="Share of records uploaded twice.")
    ] = 0.02,
    invalid_share: Annotated[
        float, typer.Option(metavar="SHARE", help="Share of rows with one defect.")
    ] = 0.01,
    missed_day_share: Annotated[
        float | None, typer.Option(metavar="SHARE", help="Share of days without upload.")
    ] = None,
    missing_form_share: Annotated[
        float | None, typer.Option(metavar="SHARE", help="Share of real-time forms not uploaded.")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Write a realistic batch of all 14 forms and a registry, calibrated on the 2022 Nanjing table.

    Shares not given are drawn per institution from the 2022 table.

    Example:

    \b
      nj-audit samples generate /tmp/batch --rows 100000 --realtime-share 0.8
    """
    from ..generate import generate_batch
    from ..period import parse_period
    from ..render.console import print_note

    with errors_handled(debug):
        batch = generate_batch(
            outdir,
            institutions=institutions,
            rows=rows,
            period=parse_period(period),
            seed=seed,
            realtime_share=realtime_share,
            correction_share=correction_share,
            invalid_share=invalid_share,
            missed_day_share=missed_day_share,
            missing_form_share=missing_form_share,
        )
    print_note(f"wrote {len(batch.files)} files, {batch.rows} rows, registry {batch.registry}")
