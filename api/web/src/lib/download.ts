// Pure helpers of file downloads (no imports, so test/download.test.mjs compiles it alone).

/** The file name of a Content-Disposition header (`attachment; filename="x.msi"`), else
 *  `fallback`. Only a plain name is taken: no path, no quoting to undo, nothing to escape. */
export function dispositionName(header: string | null, fallback: string): string {
  const m = /(?:^|;)\s*filename="([A-Za-z0-9][A-Za-z0-9._-]{0,199})"/.exec(header ?? '');
  return m ? m[1] : fallback;
}

/** The silent install command of a downloaded Windows installer (run as an administrator). */
export function msiexecLine(fileName: string): string {
  return `msiexec /i ${fileName} /qn`;
}
