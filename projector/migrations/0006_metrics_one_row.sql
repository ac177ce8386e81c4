-- One raw row per MetricsSample. See docs/read-models.md.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
--
-- The per-filesystem, per-disk, per-interface and per-sensor values of a sample move from their
-- own day-partitioned tables (0003: about 8 rows per typical sample, the projector's largest
-- cost) into `json` columns of the sample's `metrics` row: one COPY row per event. `json`, not
-- `jsonb`: PostgreSQL only validates the text, so a write costs little more than the text
-- itself, and the stored text is exactly what the projector wrote (a rebuild writes the same
-- bytes, so `rmm-projector verify` compares them as they are). NULL: the list was not collected.
-- Views with the old tables' names and columns keep a relational shape for SQL that read them.

ALTER TABLE metrics
  ADD COLUMN filesystems  json,  -- [{"mount","fstype","device","used_bytes","total_bytes",
                                 --   "inodes_used","inodes_total"}]
  ADD COLUMN disks        json,  -- [{"name","reads","writes","read_bytes","write_bytes",
                                 --   "io_time_ms"}] cumulative since boot
  ADD COLUMN net          json,  -- [{"name","rx_bytes","rx_packets","rx_errors","rx_drops",
                                 --   "tx_bytes","tx_packets","tx_errors","tx_drops"}] cumulative
  ADD COLUMN temperatures json;  -- [{"chip","label","celsius"}]

-- Rows written before this migration: their items, in the order they were stored (COPY order is
-- the agent's list order), rendered as the projector renders them. A list stored empty and a
-- list not collected both had no rows: both become NULL.
CREATE FUNCTION rmm_json_list(items text[]) RETURNS json
LANGUAGE sql IMMUTABLE AS $$ SELECT ('[' || array_to_string(items, ',') || ']')::json $$;

UPDATE metrics m SET filesystems = f.doc
  FROM (SELECT agent_id, ts, rmm_json_list(array_agg(
               '{"mount":' || to_json(mount)::text || ',"fstype":' || to_json(fstype)::text ||
               ',"device":' || to_json(device)::text || ',"used_bytes":' || used_bytes ||
               ',"total_bytes":' || total_bytes || ',"inodes_used":' || inodes_used ||
               ',"inodes_total":' || inodes_total || '}' ORDER BY tableoid, ctid)) AS doc
          FROM metrics_filesystems GROUP BY agent_id, ts) f
 WHERE m.agent_id = f.agent_id AND m.ts = f.ts;

UPDATE metrics m SET disks = d.doc
  FROM (SELECT agent_id, ts, rmm_json_list(array_agg(
               '{"name":' || to_json(name)::text || ',"reads":' || reads || ',"writes":' ||
               writes || ',"read_bytes":' || read_bytes || ',"write_bytes":' || write_bytes ||
               ',"io_time_ms":' || io_time_ms || '}' ORDER BY tableoid, ctid)) AS doc
          FROM metrics_disks GROUP BY agent_id, ts) d
 WHERE m.agent_id = d.agent_id AND m.ts = d.ts;

UPDATE metrics m SET net = n.doc
  FROM (SELECT agent_id, ts, rmm_json_list(array_agg(
               '{"name":' || to_json(name)::text || ',"rx_bytes":' || rx_bytes ||
               ',"rx_packets":' || rx_packets || ',"rx_errors":' || rx_errors ||
               ',"rx_drops":' || rx_drops || ',"tx_bytes":' || tx_bytes || ',"tx_packets":' ||
               tx_packets || ',"tx_errors":' || tx_errors || ',"tx_drops":' || tx_drops || '}'
               ORDER BY tableoid, ctid)) AS doc
          FROM metrics_net GROUP BY agent_id, ts) n
 WHERE m.agent_id = n.agent_id AND m.ts = n.ts;

UPDATE metrics m SET temperatures = t.doc
  FROM (SELECT agent_id, ts, rmm_json_list(array_agg(
               '{"chip":' || to_json(chip)::text || ',"label":' || to_json(label)::text ||
               ',"celsius":' || celsius || '}' ORDER BY tableoid, ctid)) AS doc
          FROM metrics_temperatures GROUP BY agent_id, ts) t
 WHERE m.agent_id = t.agent_id AND m.ts = t.ts;

DROP FUNCTION rmm_json_list(text[]);
DROP TABLE metrics_filesystems, metrics_disks, metrics_net, metrics_temperatures;

CREATE VIEW metrics_filesystems AS
  SELECT m.agent_id, m.ts, f.mount, f.fstype, f.device, f.used_bytes, f.total_bytes,
         f.inodes_used, f.inodes_total
    FROM metrics m,
         json_to_recordset(m.filesystems) AS f(mount text, fstype text, device text,
                                                used_bytes bigint, total_bytes bigint,
                                                inodes_used bigint, inodes_total bigint);

CREATE VIEW metrics_disks AS
  SELECT m.agent_id, m.ts, d.name, d.reads, d.writes, d.read_bytes, d.write_bytes, d.io_time_ms
    FROM metrics m,
         json_to_recordset(m.disks) AS d(name text, reads bigint, writes bigint,
                                          read_bytes bigint, write_bytes bigint,
                                          io_time_ms bigint);

CREATE VIEW metrics_net AS
  SELECT m.agent_id, m.ts, n.name, n.rx_bytes, n.rx_packets, n.rx_errors, n.rx_drops,
         n.tx_bytes, n.tx_packets, n.tx_errors, n.tx_drops
    FROM metrics m,
         json_to_recordset(m.net) AS n(name text, rx_bytes bigint, rx_packets bigint,
                                        rx_errors bigint, rx_drops bigint, tx_bytes bigint,
                                        tx_packets bigint, tx_errors bigint, tx_drops bigint);

CREATE VIEW metrics_temperatures AS
  SELECT m.agent_id, m.ts, t.chip, t.label, t.celsius
    FROM metrics m,
         json_to_recordset(m.temperatures) AS t(chip text, label text, celsius real);

-- The latest process list is only ever returned whole: stored as the text the projector wrote.
ALTER TABLE agent_processes ALTER COLUMN processes TYPE json USING processes::json;

-- Raw metrics are one table now.
CREATE OR REPLACE FUNCTION rmm_ensure_metrics_day(day date) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- Serialises concurrent creators: CREATE TABLE IF NOT EXISTS alone can still race.
  PERFORM pg_advisory_xact_lock(hashtext('rmm_metrics_partitions'));
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF metrics FOR VALUES FROM (%L) TO (%L)',
                 'metrics_p' || to_char(day, 'YYYYMMDD'),
                 to_char(day, 'YYYY-MM-DD') || ' 00:00:00+00',
                 to_char(day + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
END $$;

-- As in 0003, but a parent that does not exist (a table dropped by a later migration, named by
-- an older caller) is skipped instead of failing the whole call.
CREATE OR REPLACE FUNCTION rmm_drop_partitions_before(parents text[], cutoff timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  parent text;
  parent_oid regclass;
  child record;
  suffix text;
  range_end timestamptz;
  dropped integer := 0;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('rmm_metrics_partitions'));
  FOREACH parent IN ARRAY parents LOOP
    parent_oid := to_regclass(quote_ident(parent));
    IF parent_oid IS NULL THEN CONTINUE; END IF;
    FOR child IN
      SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = parent_oid
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
