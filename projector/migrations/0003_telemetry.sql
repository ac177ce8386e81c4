-- Telemetry and command read models. See docs/read-models.md.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
--
-- Raw metrics are partitioned by day on `ts` (event time, the agent's clock), in UTC. Partitions
-- are named <table>_pYYYYMMDD and created by rmm_ensure_metrics_day(); retention drops whole
-- partitions (rmm_drop_metrics_before), never DELETEs rows. Hourly rollups are partitioned by
-- month (<table>_pYYYYMM) the same way.

-- The presence lane (heartbeats) has its own counter in Envelope.seq: kept apart from last_seq so
-- neither lane makes the other's events look like duplicates.
ALTER TABLE agents
  ADD COLUMN last_presence_seq bigint NOT NULL DEFAULT 0,
  -- Summary of the latest Inventory, for agent lists.
  ADD COLUMN os_pretty text,
  ADD COLUMN cpu_model text,
  ADD COLUMN memory_total_bytes bigint;

-- One row per applied MetricsSample. Counters and sizes are bigint (uint64 clamped).
CREATE TABLE metrics (
  agent_id          uuid NOT NULL,
  ts                timestamptz NOT NULL,
  seq               bigint NOT NULL,
  stream_seq        bigint NOT NULL,
  cpu_percent       real NOT NULL,
  cpu_interval_ms   integer NOT NULL,
  mem_total_bytes   bigint NOT NULL,
  mem_used_bytes    bigint NOT NULL,
  mem_available_bytes bigint NOT NULL,
  mem_cached_bytes  bigint NOT NULL,
  swap_total_bytes  bigint NOT NULL,
  swap_used_bytes   bigint NOT NULL,
  load1             real NOT NULL,
  load5             real NOT NULL,
  load15            real NOT NULL,
  uptime_s          bigint NOT NULL,
  process_count     integer NOT NULL,
  logged_in_users   integer NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX metrics_agent_ts ON metrics (agent_id, ts);

CREATE TABLE metrics_filesystems (
  agent_id     uuid NOT NULL,
  ts           timestamptz NOT NULL,
  mount        text NOT NULL,
  fstype       text NOT NULL,
  device       text NOT NULL,
  used_bytes   bigint NOT NULL,
  total_bytes  bigint NOT NULL,
  inodes_used  bigint NOT NULL,
  inodes_total bigint NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX metrics_filesystems_agent_ts ON metrics_filesystems (agent_id, ts);

-- Cumulative counters since boot (rates: differences of consecutive samples; a decrease is a
-- reboot or a wrap).
CREATE TABLE metrics_disks (
  agent_id    uuid NOT NULL,
  ts          timestamptz NOT NULL,
  name        text NOT NULL,
  reads       bigint NOT NULL,
  writes      bigint NOT NULL,
  read_bytes  bigint NOT NULL,
  write_bytes bigint NOT NULL,
  io_time_ms  bigint NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX metrics_disks_agent_ts ON metrics_disks (agent_id, ts);

CREATE TABLE metrics_net (
  agent_id   uuid NOT NULL,
  ts         timestamptz NOT NULL,
  name       text NOT NULL,
  rx_bytes   bigint NOT NULL,
  rx_packets bigint NOT NULL,
  rx_errors  bigint NOT NULL,
  rx_drops   bigint NOT NULL,
  tx_bytes   bigint NOT NULL,
  tx_packets bigint NOT NULL,
  tx_errors  bigint NOT NULL,
  tx_drops   bigint NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX metrics_net_agent_ts ON metrics_net (agent_id, ts);

CREATE TABLE metrics_temperatures (
  agent_id uuid NOT NULL,
  ts       timestamptz NOT NULL,
  chip     text NOT NULL,
  label    text NOT NULL,
  celsius  real NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX metrics_temperatures_agent_ts ON metrics_temperatures (agent_id, ts);

-- Hourly rollups, maintained incrementally in the same transaction as the raw rows: each batch
-- adds its samples to the hours they fall in. Sums are numeric over the samples' exact decimal
-- values, so the totals do not depend on how the log was cut into batches (a rebuild gives the
-- same rows). Averages: metrics_hourly_avg.
CREATE TABLE metrics_hourly (
  agent_id        uuid NOT NULL,
  hour            timestamptz NOT NULL,
  samples         integer NOT NULL,
  cpu_sum         numeric NOT NULL,
  cpu_max         real NOT NULL,
  mem_percent_sum numeric NOT NULL,
  mem_percent_max real NOT NULL,
  mem_used_sum    numeric NOT NULL,
  mem_used_max    bigint NOT NULL,
  PRIMARY KEY (agent_id, hour)
) PARTITION BY RANGE (hour);

CREATE VIEW metrics_hourly_avg AS
  SELECT agent_id, hour, samples,
         (cpu_sum / samples)::real AS cpu_avg, cpu_max,
         (mem_percent_sum / samples)::real AS mem_percent_avg, mem_percent_max,
         (mem_used_sum / samples)::bigint AS mem_used_avg, mem_used_max
    FROM metrics_hourly;

-- The latest sample per agent, for the dashboard. Lists as jsonb arrays of objects.
CREATE TABLE agent_latest_metrics (
  agent_id            uuid PRIMARY KEY,
  ts                  timestamptz NOT NULL,
  seq                 bigint NOT NULL,
  cpu_percent         real NOT NULL,
  mem_total_bytes     bigint NOT NULL,
  mem_used_bytes      bigint NOT NULL,
  mem_available_bytes bigint NOT NULL,
  mem_cached_bytes    bigint NOT NULL,
  swap_total_bytes    bigint NOT NULL,
  swap_used_bytes     bigint NOT NULL,
  load1               real NOT NULL,
  load5               real NOT NULL,
  load15              real NOT NULL,
  uptime_s            bigint NOT NULL,
  process_count       integer NOT NULL,
  logged_in_users     integer NOT NULL,
  filesystems         jsonb,  -- NULL: not collected in that sample
  temperatures        jsonb,
  collection_errors   jsonb NOT NULL
);

-- The top processes of each agent's latest sample that carried them, as one document per agent
-- (replaced whole by the next sample: one row to upsert, not ten to delete and insert).
CREATE TABLE agent_processes (
  agent_id  uuid PRIMARY KEY,
  ts        timestamptz NOT NULL,
  seq       bigint NOT NULL,
  processes jsonb NOT NULL  -- [{"pid", "name", "user", "cpu_percent", "rss_bytes", "cmdline"}]
);

-- The latest Inventory per agent, whole: typed summary columns plus jsonb documents.
CREATE TABLE agent_inventory (
  agent_id           uuid PRIMARY KEY,
  ts                 timestamptz NOT NULL,
  seq                bigint NOT NULL,
  hostname           text NOT NULL,
  fqdn               text NOT NULL,
  os_name            text NOT NULL,
  os_version         text NOT NULL,
  os_pretty          text NOT NULL,
  kernel             text NOT NULL,
  arch               text NOT NULL,
  boot_time          timestamptz,
  cpu_model          text NOT NULL,
  cpu_sockets        integer NOT NULL,
  cpu_cores          integer NOT NULL,
  cpu_threads        integer NOT NULL,
  memory_total_bytes bigint NOT NULL,
  machine_id         text NOT NULL,
  dmi_vendor         text NOT NULL,
  dmi_product        text NOT NULL,
  dmi_serial         text NOT NULL,
  package_manager    text NOT NULL,
  package_count      integer NOT NULL,
  packages_truncated boolean NOT NULL,
  service_count      integer NOT NULL,
  services_truncated boolean NOT NULL,
  services_unavailable_reason text NOT NULL,
  interfaces         jsonb NOT NULL,  -- [{"name", "mac", "addresses": [...]}]
  packages           jsonb NOT NULL,  -- [{"name", "version", "arch"}]
  services           jsonb NOT NULL,  -- [{"name", "load", "active", "sub"}]
  collection_errors  jsonb NOT NULL
);

-- One row per command, from the agent's lifecycle events. Timestamps are event time; each is
-- set by the first event that carries it. Status only moves forward (see rmm_command_rank), so a
-- terminal status is final.
CREATE TABLE commands (
  id               uuid PRIMARY KEY,
  agent_id         uuid NOT NULL,
  status           text NOT NULL,  -- received, started, completed, failed, timed_out, cancelled,
                                   -- expired, rejected, interrupted
  kind             text,
  issuer           text,
  command_stream_seq bigint,       -- position in RMM_COMMANDS (CommandReceived)
  pid              bigint,
  received_at      timestamptz,
  started_at       timestamptz,
  finished_at      timestamptz,
  exit_code        integer,
  term_signal      integer,
  duration_ms      bigint,
  reason           text,
  stdout           text NOT NULL DEFAULT '',
  stderr           text NOT NULL DEFAULT '',
  stdout_truncated boolean NOT NULL DEFAULT false,
  stderr_truncated boolean NOT NULL DEFAULT false,
  last_seq         bigint NOT NULL,  -- the agent sequence of the last event folded in
  updated_at       timestamptz NOT NULL
);
CREATE INDEX commands_agent ON commands (agent_id, received_at);

-- Output chunks as they arrived (bytes: a chunk may end inside a UTF-8 sequence);
-- commands.stdout/stderr are their concatenation in chunk order, made valid UTF-8.
CREATE TABLE command_output_chunks (
  command_id  uuid NOT NULL,
  chunk_index bigint NOT NULL,  -- over both streams of the command
  stream      smallint NOT NULL,  -- 0 stdout, 1 stderr (schema OutputStream)
  byte_offset bigint NOT NULL,
  data        bytea NOT NULL,
  truncated   boolean NOT NULL,
  PRIMARY KEY (command_id, chunk_index)
);

CREATE FUNCTION rmm_command_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status WHEN 'unknown' THEN 0 WHEN 'received' THEN 1 WHEN 'started' THEN 2 ELSE 3 END
$$;

-- Per-agent sequence gaps in the ordered lane: events from_seq..to_seq were never applied (lost
-- by a crash of the agent, dropped by its outbox, or still to come out of order). Never blocks.
CREATE TABLE agent_sequence_gaps (
  agent_id    uuid NOT NULL,
  from_seq    bigint NOT NULL,
  to_seq      bigint NOT NULL,
  detected_at timestamptz NOT NULL,  -- event time of the event after the gap
  PRIMARY KEY (agent_id, from_seq)
);

-- OutboxDropped events: what an agent's outbox dropped to stay within its disk budget.
CREATE TABLE agent_outbox_drops (
  agent_id           uuid NOT NULL,
  ts                 timestamptz NOT NULL,
  seq                bigint NOT NULL,
  dropped_metrics    bigint NOT NULL,
  dropped_heartbeats bigint NOT NULL,
  oldest_dropped_seq bigint NOT NULL,
  newest_dropped_seq bigint NOT NULL,
  PRIMARY KEY (agent_id, seq)
);

-- Creates the day partition of every raw metrics table covering `day` (UTC), if missing.
CREATE FUNCTION rmm_ensure_metrics_day(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  parent text;
  lo text := to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00';
  hi text := to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
BEGIN
  -- Serialises concurrent creators: CREATE TABLE IF NOT EXISTS alone can still race.
  PERFORM pg_advisory_xact_lock(hashtext('rmm_metrics_partitions'));
  FOREACH parent IN ARRAY ARRAY['metrics', 'metrics_filesystems', 'metrics_disks', 'metrics_net',
                                'metrics_temperatures'] LOOP
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   parent || '_p' || to_char(day, 'YYYYMMDD'), parent, lo, hi);
  END LOOP;
END $$;

-- Creates the month partition of metrics_hourly covering `day` (UTC), if missing.
CREATE FUNCTION rmm_ensure_rollup_month(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  first date := date_trunc('month', day)::date;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('rmm_metrics_partitions'));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF metrics_hourly '
                 'FOR VALUES FROM (%L) TO (%L)',
                 'metrics_hourly_p' || to_char(first, 'YYYYMM'),
                 to_char(first, 'YYYY-MM-DD') || ' 00:00:00+00',
                 to_char((first + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
END $$;

-- Drops the partitions of `parents` whose whole range ends at or before `cutoff`; the range end
-- is read from the partition's name (<parent>_pYYYYMMDD or _pYYYYMM). Returns how many it dropped.
CREATE FUNCTION rmm_drop_partitions_before(parents text[], cutoff timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  parent text;
  child record;
  suffix text;
  range_end timestamptz;
  dropped integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('rmm_metrics_partitions'));
  FOREACH parent IN ARRAY parents LOOP
    FOR child IN
      SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = parent::regclass
    LOOP
      suffix := substring(child.relname FROM length(parent) + 3);
      IF child.relname <> parent || '_p' || suffix THEN CONTINUE; END IF;
      IF suffix ~ '^[0-9]{8}$' THEN
        range_end := to_char(to_date(suffix, 'YYYYMMDD') + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
      ELSIF suffix ~ '^[0-9]{6}$' THEN
        range_end := to_char(to_date(suffix, 'YYYYMM') + interval '1 month', 'YYYY-MM-DD')
                     || ' 00:00:00+00';
      ELSE
        CONTINUE;
      END IF;
      IF range_end <= cutoff THEN
        EXECUTE format('DROP TABLE %I', child.relname);
        dropped := dropped + 1;
      END IF;
    END LOOP;
  END LOOP;
  RETURN dropped;
END $$;
