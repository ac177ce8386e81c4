-- The per-item lists of a raw metrics row as arrays of arrays. See docs/read-models.md.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
--
-- COPY is the projector's ceiling and the object keys were half of a row's ~960 bytes: a
-- `\copy` of 200,000 typical rows took ~2.0 s with the lists as objects and ~1.2 s with the same
-- values as arrays of arrays (PostgreSQL 15). Each item is now the array of its values in a fixed
-- field order, `[]` still means collected and empty, NULL still means not collected:
--   filesystems  [[mount, fstype, device, used_bytes, total_bytes, inodes_used, inodes_total]]
--   disks        [[name, reads, writes, read_bytes, write_bytes, io_time_ms]] cumulative
--   net          [[name, rx_bytes, rx_packets, rx_errors, rx_drops, tx_bytes, tx_packets,
--                  tx_errors, tx_drops]] cumulative
--   temperatures [[chip, label, celsius]]
-- agent_latest_metrics keeps its jsonb objects (read by key by the API).

-- Rows written before this migration: each item's values in the field order above, each value
-- as its own text in the stored document (`->` on json returns the original text), so the result
-- is byte for byte what projector/db/metrics_writer.cc renders for the same sample and
-- `rmm-projector verify` still finds a rebuild equal. A key missing from an item becomes null.
CREATE FUNCTION rmm_compact_list(list json, keys text[]) RETURNS json
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ('[' || COALESCE(string_agg(i.item_text, ',' ORDER BY e.n), '') || ']')::json
    FROM json_array_elements(list) WITH ORDINALITY AS e(item, n),
         LATERAL (SELECT '[' || string_agg(COALESCE((e.item -> k.key)::text, 'null'), ','
                                           ORDER BY k.n) || ']'
                    FROM unnest(keys) WITH ORDINALITY AS k(key, n)) AS i(item_text)
$$;

UPDATE metrics
   SET filesystems = rmm_compact_list(filesystems, '{mount,fstype,device,used_bytes,total_bytes,'
                                                   'inodes_used,inodes_total}'),
       disks = rmm_compact_list(disks, '{name,reads,writes,read_bytes,write_bytes,io_time_ms}'),
       net = rmm_compact_list(net, '{name,rx_bytes,rx_packets,rx_errors,rx_drops,tx_bytes,'
                                   'tx_packets,tx_errors,tx_drops}'),
       temperatures = rmm_compact_list(temperatures, '{chip,label,celsius}')
 WHERE filesystems IS NOT NULL OR disks IS NOT NULL OR net IS NOT NULL
    OR temperatures IS NOT NULL;

DROP FUNCTION rmm_compact_list(json, text[]);

COMMENT ON COLUMN metrics.filesystems IS
  '[[mount, fstype, device, used_bytes, total_bytes, inodes_used, inodes_total]]; '
  'NULL: not collected. Relational: view metrics_filesystems';
COMMENT ON COLUMN metrics.disks IS
  '[[name, reads, writes, read_bytes, write_bytes, io_time_ms]] cumulative since boot; '
  'NULL: not collected. Relational: view metrics_disks';
COMMENT ON COLUMN metrics.net IS
  '[[name, rx_bytes, rx_packets, rx_errors, rx_drops, tx_bytes, tx_packets, tx_errors, '
  'tx_drops]] cumulative; NULL: not collected. Relational: view metrics_net';
COMMENT ON COLUMN metrics.temperatures IS
  '[[chip, label, celsius]]; NULL: not collected. Relational: view metrics_temperatures';

-- The same names, columns and types as before (CREATE OR REPLACE VIEW refuses anything else),
-- so SQL written against the views of 0006 or the tables of 0003 keeps working.
CREATE OR REPLACE VIEW metrics_filesystems AS
  SELECT m.agent_id, m.ts, f->>0 AS mount, f->>1 AS fstype, f->>2 AS device,
         (f->>3)::bigint AS used_bytes, (f->>4)::bigint AS total_bytes,
         (f->>5)::bigint AS inodes_used, (f->>6)::bigint AS inodes_total
    FROM metrics m, json_array_elements(m.filesystems) AS f;

CREATE OR REPLACE VIEW metrics_disks AS
  SELECT m.agent_id, m.ts, d->>0 AS name, (d->>1)::bigint AS reads, (d->>2)::bigint AS writes,
         (d->>3)::bigint AS read_bytes, (d->>4)::bigint AS write_bytes,
         (d->>5)::bigint AS io_time_ms
    FROM metrics m, json_array_elements(m.disks) AS d;

CREATE OR REPLACE VIEW metrics_net AS
  SELECT m.agent_id, m.ts, n->>0 AS name, (n->>1)::bigint AS rx_bytes,
         (n->>2)::bigint AS rx_packets, (n->>3)::bigint AS rx_errors,
         (n->>4)::bigint AS rx_drops, (n->>5)::bigint AS tx_bytes, (n->>6)::bigint AS tx_packets,
         (n->>7)::bigint AS tx_errors, (n->>8)::bigint AS tx_drops
    FROM metrics m, json_array_elements(m.net) AS n;

CREATE OR REPLACE VIEW metrics_temperatures AS
  SELECT m.agent_id, m.ts, t->>0 AS chip, t->>1 AS label, (t->>2)::real AS celsius
    FROM metrics m, json_array_elements(m.temperatures) AS t;
