-- Bulk work (issue 18): the commands of one bulk request (POST /api/v1/commands for several
-- agents) share a batch id, carried by each CommandIssued and read back as
-- GET /api/v1/command-batches/{id}. NULL for a single command and for commands issued before.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
ALTER TABLE commands ADD COLUMN batch_id uuid;
CREATE INDEX commands_batch ON commands (batch_id, agent_id) WHERE batch_id IS NOT NULL;
