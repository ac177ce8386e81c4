// The registry editor's wire shapes (docs/agent.md, "Registry editor"): the bodies of `registry`
// commands, the agent's JSON answers, the text of the edit form for each value type, and waiting
// for a command's answer. No imports: test/registry.test.mjs compiles this file alone.

export const HIVES = ['HKLM', 'HKCU', 'HKU', 'HKCR', 'HKCC'] as const;
export const VALUE_TYPES = [
  'string', 'expand_string', 'multi_string', 'dword', 'qword', 'binary',
] as const;
export type ValueType = (typeof VALUE_TYPES)[number];
export type RegOp = 'list' | 'get' | 'set' | 'delete_value' | 'create_key' | 'delete_key';

export interface RegValue {
  name: string;
  type: string;
  data: unknown;
  raw_type?: number;
  data_truncated?: boolean;
}

export interface RegListing {
  hive: string;
  key: string;
  subkeys: string[];
  values: RegValue[];
  truncated: boolean;
}

/** The POST /api/v1/commands body (without agent_ids) of one registry operation. */
export function registryBody(op: RegOp, hive: string, key: string, name?: string,
                             value?: { type: ValueType; data: unknown }): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: 'registry', op, hive, key };
  if (op === 'get' || op === 'set' || op === 'delete_value') body.name = name ?? '';
  if (op === 'set') body.value = value;
  return body;
}

/** "Software\\A" + "B" -> "Software\\A\\B"; the hive's root is "". */
export function childKey(key: string, sub: string): string {
  return key ? `${key}\\${sub}` : sub;
}

export function parentKey(key: string): string {
  const i = key.lastIndexOf('\\');
  return i < 0 ? '' : key.slice(0, i);
}

/** A key path as typed: slashes turned around, no empty parts. */
export function cleanKey(text: string): string {
  return text.replace(/\//g, '\\').split('\\').map((p) => p.trim()).filter(Boolean).join('\\');
}

function parseObject(stdout: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error('the agent answered with something that is not JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error('the agent answered with something that is not a JSON object');
  }
  return doc as Record<string, unknown>;
}

function asValue(v: unknown): RegValue | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (typeof o.type !== 'string') return null;
  return {
    name: typeof o.name === 'string' ? o.name : '',
    type: o.type,
    data: o.data,
    raw_type: typeof o.raw_type === 'number' ? o.raw_type : undefined,
    data_truncated: o.data_truncated === true,
  };
}

/** The answer to `list`. Throws an Error that says what is wrong with it. */
export function parseListing(stdout: string): RegListing {
  const doc = parseObject(stdout);
  if (!Array.isArray(doc.subkeys) || !Array.isArray(doc.values)) {
    throw new Error('the agent\'s answer has no subkeys and values');
  }
  return {
    hive: String(doc.hive ?? ''),
    key: String(doc.key ?? ''),
    subkeys: doc.subkeys.filter((s): s is string => typeof s === 'string')
      .sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base' })),
    values: doc.values.map(asValue).filter((v): v is RegValue => v !== null)
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' })),
    truncated: doc.truncated === true,
  };
}

/** The value in the answer to `get` or `set`. */
export function parseValue(stdout: string): RegValue {
  const v = asValue(parseObject(stdout));
  if (!v) throw new Error('the agent\'s answer holds no value');
  return v;
}

/** The data as the edit form shows it: multi_string one per line, binary as hex pairs. */
export function dataToText(v: RegValue): string {
  if (Array.isArray(v.data)) return v.data.map(String).join('\n');
  if (v.type === 'binary' || v.type === 'other') {
    return String(v.data ?? '').replace(/(..)(?=.)/g, '$1 ');
  }
  return v.data === undefined || v.data === null ? '' : String(v.data);
}

/** The data as the values table shows it (one line). */
export function dataSummary(v: RegValue): string {
  if (v.type === 'dword' || v.type === 'qword') {
    const text = String(v.data ?? '');
    if (/^\d+$/.test(text)) return `${text} (0x${BigInt(text).toString(16)})`;
    return text;
  }
  if (Array.isArray(v.data)) return v.data.map(String).join(' | ');
  const text = dataToText(v);
  return v.data_truncated ? `${text} …` : text;
}

const MAX_QWORD = (1n << 64n) - 1n;

/** The form's text as the value's data, or what is wrong with it. */
export function textToData(type: ValueType, text: string): { data?: unknown; error?: string } {
  switch (type) {
    case 'string':
    case 'expand_string':
      return { data: text };
    case 'multi_string': {
      const lines = text.split(/\r?\n/).filter((l) => l !== '');
      return { data: lines };
    }
    case 'dword':
    case 'qword': {
      const t = text.trim();
      let n: bigint;
      try {
        if (!/^(0x[0-9a-f]+|\d+)$/i.test(t)) throw new Error();
        n = BigInt(t);
      } catch {
        return { error: `a ${type} is a whole number (decimal, or hex with 0x)` };
      }
      const max = type === 'dword' ? 0xffffffffn : MAX_QWORD;
      if (n > max) return { error: `a ${type} is at most ${max}` };
      return { data: n.toString() };
    }
    case 'binary': {
      const hex = text.replace(/[\s,]/g, '').replace(/^0x/i, '');
      if (!/^([0-9a-f]{2})*$/i.test(hex)) {
        return { error: 'binary data is pairs of hex digits, e.g. "01 ff 2a"' };
      }
      return { data: hex.toLowerCase() };
    }
  }
  return { error: 'unknown type' };
}

/** What GET /api/v1/commands/{id} returns, as far as waiting needs it. */
export interface CommandState {
  status: string;
  exit_code?: number | null;
  reason?: string | null;
  stdout?: string;
  stderr?: string;
}

const OPEN = new Set(['unknown', 'issued', 'pending', 'queued', 'received', 'started', 'running']);

/**
 * Polls `get` until the command is finished and returns its standard output; throws an Error
 * with the agent's reason (its stderr, or why it was rejected, failed or timed out). `get`
 * may throw while the projector has not seen the command yet: that counts as not finished.
 */
export async function waitForAnswer(get: () => Promise<CommandState>,
                                    opts: { intervalMs?: number; timeoutMs?: number;
                                            signal?: AbortSignal } = {}): Promise<string> {
  const interval = opts.intervalMs ?? 1000;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    if (opts.signal?.aborted) throw new Error('stopped waiting');
    let c: CommandState | null = null;
    try {
      c = await get();
    } catch (e) {
      lastError = e;
    }
    if (c && !OPEN.has(c.status)) {
      // Only a program or action that ran to its end has an exit code.
      if (c.exit_code === 0) return c.stdout ?? '';
      const why = (c.stderr ?? '').trim() || c.reason || `the command ended ${c.status}`;
      throw new Error(why);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  const extra = lastError instanceof Error ? ` (${lastError.message})` : '';
  throw new Error(`no answer from the agent within ${Math.round((opts.timeoutMs ?? 120_000) / 1000)} s${extra}`);
}
