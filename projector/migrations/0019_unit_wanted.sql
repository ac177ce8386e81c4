-- The partitioned projection's demand (docs/architecture.md, "Partitioned projection"): the
-- watermark a waiting unit needs from its peers to fold its next message. An idle unit whose
-- watermark is below a peer's `wanted` shortens its rounds to raise it at once, instead of once a
-- fetch timeout. Only ever raised; a stale value below the unit's watermark asks for nothing.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
ALTER TABLE projection_checkpoints ADD COLUMN wanted bigint NOT NULL DEFAULT 0;
