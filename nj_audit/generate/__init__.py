"""Realistic sample batches of uploads: every form, every rule, calibrated on the 2022 Nanjing
table.

`generate_batch` writes what ~190 institutions would upload to a municipal platform in a period,
scaled down: one folder per institution (`<district pinyin>/<org_code>/<form_id>.csv`), a registry,
real-time and late uploads, missed upload days, missing forms, corrections (re-uploads of a record)
and invalid rows with exactly one defect each. `form_table` makes the rows of one form (the
benchmarks use it). Everything is vectorised with numpy/pyarrow and deterministic for a seed.

The modules, in the order a batch is made:
- `calibration`: the 2022 published table, the districts, the forms' shares of a hospital's rows
- `vocabulary`: each form's columns, code sets and word lists
- `text`: Arrow text columns (picks, joins, amounts) and fixed-width times
- `institutions`: one `InstitutionPlan` per institution, modelled on a row of the table
- `people`: a pool of patients with resident ID numbers that agree with birth date and sex
- `rows`: valid values and upload/event times for one form's rows
- `defects`: one defect for each invalid row
- `writing`: times in an institution's style, overrides, CSV bytes (CRLF, GB18030)
- `tables`: `form_table`, one form's upload with corrections and defects
- `batch`: `generate_batch`, every institution's files and the registry
- `daily`: `split_by_upload_day`, a batch cut into the daily folders a platform receives
"""

from .batch import DEFAULT_PERIOD, GeneratedBatch, generate_batch
from .calibration import DISTRICTS
from .daily import split_by_upload_day
from .institutions import org_code
from .people import make_patients
from .tables import FormRows, form_table
from .writing import csv_bytes

__all__ = [
    "DEFAULT_PERIOD",
    "DISTRICTS",
    "FormRows",
    "GeneratedBatch",
    "csv_bytes",
    "form_table",
    "generate_batch",
    "make_patients",
    "org_code",
    "split_by_upload_day",
]
