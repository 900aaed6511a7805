/** Every known secret in `text` replaced by `***`, the longest first (as the runner masks a log line). */
export function maskSecrets(text: string, masks: readonly string[]): string {
  let out = text;
  for (const secret of [...masks].sort((a, b) => b.length - a.length))
    if (secret !== '') out = out.split(secret).join('***');
  return out;
}
