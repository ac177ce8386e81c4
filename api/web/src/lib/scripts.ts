// Which kinds of script the command forms offer for an agent, and the command body of each
// (docs/api.md, "Commands"). Windows agents run cmd.exe and PowerShell scripts, other agents
// /bin/sh and the interpreters they have; exec (a program and its arguments, no shell) runs
// everywhere. No imports: test/registry.test.mjs compiles this file alone.

export interface ScriptLanguage {
  id: string;
  label: string;
  /** The console's prompt and the input's hint. */
  prompt: string;
}

/** Whether the agent's OS (its product name, e.g. "Windows Server 2022 Standard") is Windows. */
export function isWindowsOs(os: string | null | undefined): boolean {
  return /windows/i.test(os ?? '');
}

export function scriptLanguages(windows: boolean): ScriptLanguage[] {
  const exec = { id: 'exec', label: 'program and arguments (no shell)', prompt: '>' };
  if (windows) {
    return [
      { id: 'cmd', label: 'cmd.exe', prompt: 'C:\\>' },
      { id: 'powershell', label: 'PowerShell', prompt: 'PS>' },
      exec,
    ];
  }
  return [
    { id: 'sh', label: '/bin/sh', prompt: '$' },
    { id: 'bash', label: 'bash', prompt: '$' },
    { id: 'python3', label: 'python3', prompt: '>>>' },
    exec,
  ];
}

/**
 * The POST /api/v1/commands body (without agent_ids) that runs `text` in `language`; for exec,
 * one argument per line (the program first). `error` says what is missing.
 */
export function scriptBody(language: string, text: string,
                           timeoutS: number): { body?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { error: 'the script is empty' };
  const timeout = { timeout_s: timeoutS };
  switch (language) {
    case 'cmd':
    case 'powershell':
      return { body: { kind: language, script: text, ...timeout } };
    case 'exec': {
      const argv = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
      return { body: { kind: 'exec', argv, ...timeout } };
    }
    case 'sh':
      return { body: { kind: 'shell', script: text, ...timeout } };
    default:
      return { body: { kind: 'shell', script: text, interpreter: language, ...timeout } };
  }
}
