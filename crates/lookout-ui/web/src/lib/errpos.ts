// Where in the query a parse error points. Prometheus prints `1:5: parse error: …` (line and 1-based byte column),
// Loki `parse error at line 1, col 5: …` (the same), Lookout's engine `parse error at char 8: …` (0-based byte
// offset). Both count bytes of UTF-8; the editor needs
// UTF-16 string indices. Pure function (unit-tested).

function byteToIndex(text: string, byteOffset: number): number {
  const enc = new TextEncoder();
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    if (bytes >= byteOffset) return i;
    bytes += enc.encode(ch).length;
    i += ch.length;
  }
  return text.length;
}

/** The string index the error message points at in `query`, or null when it names no position. */
export function errorPosition(message: string, query: string): number | null {
  const lc = /(?:^|\s)(\d+):(\d+):\s/.exec(message) ?? /at line (\d+), col (\d+)/.exec(message);
  if (lc) {
    const line = parseInt(lc[1], 10);
    const col = parseInt(lc[2], 10);
    const lines = query.split("\n");
    if (line < 1 || line > lines.length) return null;
    let start = 0;
    for (let i = 0; i < line - 1; i++) start += lines[i].length + 1;
    return start + byteToIndex(lines[line - 1], Math.max(0, col - 1));
  }
  const at = /at char (\d+)/.exec(message);
  if (at) return byteToIndex(query, parseInt(at[1], 10));
  return null;
}
