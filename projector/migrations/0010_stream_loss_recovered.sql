-- Control events recovered over a stream loss: when the projector proves a range deleted from
-- RMM_EVENTS, it folds that range's control events from the control archive (RMM_CONTROL) in the
-- transaction that records the loss, so `count` counts only what is really gone (the telemetry)
-- and `recovered` the control events folded from the archive (docs/operations.md, "When the
-- stream overflows"). A range whose deleted messages were all recovered records no row.
-- Rows written before this migration recovered nothing: the default 0 is their truth.
-- Applied once by rmm-projector; never edit after release: add a new migration instead. Like
-- 0009, it runs again for every rebuilt schema and finds the column there: it must stay idempotent.
ALTER TABLE ops.stream_losses
  ADD COLUMN IF NOT EXISTS recovered bigint NOT NULL DEFAULT 0 CHECK (recovered >= 0);
