// A tiny, safe Markdown renderer for text panels: headings, paragraphs, emphasis, inline and fenced code, lists,
// block quotes, rules and links. All input is HTML-escaped first; only the tags made here reach the page, and link
// targets are limited to http(s), mailto, relative and fragment URLs. Pure function (unit-tested).

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** A link target when it is safe to follow, else null (`javascript:`, `data:` and the like). */
export function safeUrl(raw: string): string | null {
  const url = raw.trim();
  if (/^(https?:|mailto:)/i.test(url)) return url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return null;
  return url;
}

// Inline markup on already-escaped text. Code spans and links are cut out first (kept as placeholders) so that
// emphasis never rewrites their contents.
function emphasis(s: string): string {
  return s
    .replace(/\*\*([^*]+)\*\*|__([^_]+)__/g, (_, a?: string, b?: string) => `<strong>${a ?? b}</strong>`)
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*|(^|[^_\w])_([^_\s][^_]*)_/g, (_, p1?: string, a?: string, p2?: string, b?: string) =>
      `${p1 ?? p2 ?? ""}<em>${a ?? b}</em>`,
    )
    .replace(/~~([^~]+)~~/g, "<del>$1</del>");
}

function inline(escaped: string): string {
  const kept: string[] = [];
  const keep = (html: string) => {
    kept.push(html);
    return `\u0000${kept.length - 1}\u0000`;
  };
  let s = escaped.replace(/`([^`]+)`/g, (_, c: string) => keep(`<code>${c}</code>`));
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)(?:\s+&quot;[^&]*&quot;)?\)/g, (_, text: string, url: string) => {
    const target = safeUrl(url.replace(/&amp;/g, "&"));
    if (target === null) return text;
    return keep(`<a href="${escapeHtml(target)}" rel="noopener noreferrer">${emphasis(text)}</a>`);
  });
  s = s.replace(/(^|[\s(])(https?:\/\/[^\s<)]+)/g, (_, pre: string, url: string) =>
    pre + keep(`<a href="${url}" rel="noopener noreferrer">${url}</a>`),
  );
  return emphasis(s).replace(/\u0000(\d+)\u0000/g, (_, i: string) => kept[Number(i)]);
}

/** Markdown to HTML that is safe to assign to `innerHTML`. */
export function renderMarkdown(src: string): string {
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  let para: string[] = [];
  let list: { tag: "ul" | "ol"; items: string[] } | null = null;
  const flushPara = () => {
    if (para.length) out.push(`<p>${inline(escapeHtml(para.join("\n"))).replace(/\n/g, " ")}</p>`);
    para = [];
  };
  const flushList = () => {
    if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(escapeHtml(i))}</li>`).join("")}</${list.tag}>`);
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^\s*(```|~~~)\s*([\w-]*)\s*$/.exec(line);
    if (fence) {
      flushPara();
      flushList();
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(fence[1]); i++) body.push(lines[i]);
      out.push(`<pre><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    const item = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (heading) {
      flushPara();
      flushList();
      const n = heading[1].length;
      out.push(`<h${n}>${inline(escapeHtml(heading[2]))}</h${n}>`);
    } else if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flushPara();
      flushList();
      out.push("<hr>");
    } else if (item) {
      flushPara();
      const tag = /\d/.test(item[1]) ? "ol" : "ul";
      if (list && list.tag !== tag) flushList();
      list ??= { tag, items: [] };
      list.items.push(item[2]);
    } else if (/^\s*>/.test(line)) {
      flushPara();
      flushList();
      out.push(`<blockquote>${inline(escapeHtml(line.replace(/^\s*>\s?/, "")))}</blockquote>`);
    } else if (line.trim() === "") {
      flushPara();
      flushList();
    } else if (/^ {4}/.test(line) && para.length === 0) {
      flushList();
      const body = [line.slice(4)];
      while (i + 1 < lines.length && /^ {4}/.test(lines[i + 1])) body.push(lines[++i].slice(4));
      out.push(`<pre><code>${escapeHtml(body.join("\n"))}</code></pre>`);
    } else {
      flushList();
      para.push(line.trim());
    }
  }
  flushPara();
  flushList();
  return out.join("\n");
}
