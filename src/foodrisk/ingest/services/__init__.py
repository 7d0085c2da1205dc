"""Every ingest write (batches, quarantine, review queue, profiles), one module per job.

Modules: profiles (mapping profiles and sources), pipeline (clean → validate → resolve → dedupe → write, one
chunk at a time), batches (a file's batch: create, run, finish, report), quarantine (resubmitted rows and
review-queue decisions), workbooks (files out: templates, quarantine workbooks and their upload, quality).

read → map headers (profile) → normalise → validate (all reason codes per row) → resolve the enterprise
→ dedupe (in the batch and against the archive, by natural key) → write through the archive services
(`upsert_enterprises`, `upsert_licences`, `upsert_records`) in chunks → counts and a quality snapshot.

Counts always add up: accepted_new + accepted_updated + unchanged + merged_duplicates + quarantined +
in_review = rows_read. Nothing is lost: a rejected row is quarantined with its reasons, a grey-zone match
waits in the review queue.
"""


class IngestError(Exception):
    pass


class DuplicateFile(IngestError):
    """The same file (SHA-256) was already imported for this source and kind: importing it again needs a
    confirmation (confirm_duplicate)."""

    def __init__(self, message, earlier):
        super().__init__(message)
        self.earlier = earlier
