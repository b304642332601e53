"""A fingerprint of the code that turns canonical records into warehouse rows.

A study whose canonical record is unchanged is skipped on reload, unless the code that derives its
rows changed since it was loaded: the fingerprint of that code is stored with each study, so a
fixed or extended transformation reaches every study on the next run, with no version to bump.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

# Everything between a record's bytes and its rows: the parsers (a study whose source bytes are
# unchanged is not even parsed again, so a parser fix must show here), the vocabulary, the
# canonical record, the transformations and free-text readers, the contracts and the DDL.
FINGERPRINTED = (
    "pipelines/sources/*.py",
    "pipelines/vocabulary.py",
    "pipelines/canonical.py",
    "pipelines/transform/*.py",
    "pipelines/validate.py",
    "pipelines/extract/*.py",
    "schemas/star.py",
    "sql/ddl/warehouse.sql",
)


def code_fingerprint(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.blake2b(digest_size=8)
    for pattern in FINGERPRINTED:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


PIPELINE_VERSION = code_fingerprint()
