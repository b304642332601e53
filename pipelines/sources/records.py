"""What every source format hands to the rest of the pipeline.

A *raw record* is the bytes of one study as found in the landing zone (a file, a zip member, one
NDJSON line, one element of an API page). A format module turns it into the *canonical record*:
a plain ``dict`` in the ClinicalTrials.gov API v2 study structure (``protocolSection`` …), so that
one transformation serves every source. Facts a source states for which API v2 has no field go
under the top-level key ``extras`` (documented in ``pipelines/canonical.py``), never into an
API v2 field with a different meaning.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One study's bytes and where they came from (``path``, ``path!member``, ``path#line``)."""

    source_uri: str
    content: bytes


class RecordRejected(ValueError):
    """A record that cannot be read as a study; the message is the reason shown to users."""
