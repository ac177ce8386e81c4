-- The partitioned projection's watermarks (docs/architecture.md, "Partitioned projection"): every
-- message of a unit up to `watermark` is committed, so a peer unit may fold the messages just
-- above it. Never below stream_seq; raised in the batch transaction or on its own while the unit
-- waits. The single "core" projection leaves it at 0.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
ALTER TABLE projection_checkpoints ADD COLUMN watermark bigint NOT NULL DEFAULT 0;
