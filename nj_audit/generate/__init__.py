"""Realistic sample batches of uploads: every form, every rule, calibrated on the 2022 Nanjing table.

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
"""

from ..checks import gb11643_check_char as id_check_char
from .batch import DEFAULT_PERIOD, GeneratedBatch, generate_batch
from .calibration import DISTRICTS, FORM_WEIGHTS, PUBLISHED_2022
from .defects import defect_names
from .institutions import InstitutionPlan, org_code
from .people import Patients, id_numbers, make_patients
from .tables import FormRows, form_table
from .text import DAY, HOUR, MISSING, format_times
from .vocabulary import ARCHIVE_FORM_IDS, COLUMNS, DATE_COLUMNS, PATIENT_FORMS, RECORD_PREFIX
from .writing import Style, csv_bytes

__all__ = [
    "ARCHIVE_FORM_IDS",
    "COLUMNS",
    "DATE_COLUMNS",
    "DAY",
    "DEFAULT_PERIOD",
    "DISTRICTS",
    "FORM_WEIGHTS",
    "HOUR",
    "MISSING",
    "PATIENT_FORMS",
    "PUBLISHED_2022",
    "RECORD_PREFIX",
    "FormRows",
    "GeneratedBatch",
    "InstitutionPlan",
    "Patients",
    "Style",
    "csv_bytes",
    "defect_names",
    "form_table",
    "format_times",
    "generate_batch",
    "id_check_char",
    "id_numbers",
    "make_patients",
    "org_code",
]
