-- Stream losses: ranges of stream sequences past a projection's checkpoint that the stream deleted
-- (its limits: max_msgs, max_bytes, max_age; or an explicit delete) before the projector folded
-- them. The agents had been acked for those events and dropped them from their outboxes, so they
-- are gone for good: an operator must see it and acknowledge it (docs/operations.md, "When the
-- stream overflows"). Written by rmm-projector in the batch transaction that moves the checkpoint
-- over the range.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
--
-- Not a read model: a loss cannot be derived again from the stream, which no longer holds the
-- messages, nor tell itself apart from messages that aged out after they were folded. So, like the
-- API's `auth` schema, it lives outside the read-model schema, and a rebuild (which applies these
-- migrations to a fresh schema and swaps `public`) finds it already there and leaves it alone:
-- every statement must stay idempotent.
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.stream_losses (
  id              bigserial PRIMARY KEY,
  projection      text NOT NULL,
  stream          text NOT NULL,
  from_seq        bigint NOT NULL,
  to_seq          bigint NOT NULL CHECK (to_seq >= from_seq),
  count           bigint NOT NULL CHECK (count > 0),  -- sequences in the range, all deleted
  detected_at     timestamptz NOT NULL DEFAULT now(),
  reason          text NOT NULL,
  acknowledged_at timestamptz,
  acknowledged_by text,
  UNIQUE (projection, stream, from_seq)
);
CREATE INDEX IF NOT EXISTS stream_losses_open ON ops.stream_losses (projection)
  WHERE acknowledged_at IS NULL;
