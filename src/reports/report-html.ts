/**
 * The report document as one self-contained HTML file: the same blocks as the Markdown, charts inlined as SVG,
 * a small stylesheet, no scripts and nothing fetched from elsewhere.
 */
import type { Block, Inline, ReportDocument } from './report-document.js';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function inlineHtml(parts: readonly Inline[]): string {
  return parts
    .map((x) => {
      if (typeof x === 'string') return escapeHtml(x);
      if ('code' in x) return `<code>${escapeHtml(x.code)}</code>`;
      if ('strong' in x) return `<strong>${escapeHtml(x.strong)}</strong>`;
      return `<a href="${escapeHtml(x.href)}">${escapeHtml(x.link)}</a>`;
    })
    .join('');
}

/** SVGs are ours (rendered from data by vega, which escapes text); the XML prolog, if any, is dropped. */
function blockHtml(block: Block, svgs: ReadonlyMap<string, string>): string {
  switch (block.type) {
    case 'heading':
      return `<h${block.level}>${escapeHtml(block.text)}</h${block.level}>`;
    case 'paragraph':
      return `<p>${inlineHtml(block.content)}</p>`;
    case 'list':
      return `<ul>\n${block.items.map((i) => `<li>${inlineHtml(i)}</li>`).join('\n')}\n</ul>`;
    case 'table': {
      const cls = (a: string | undefined): string => (a === 'right' ? ' class="num"' : '');
      const head = `<tr>${block.columns.map((c) => `<th${cls(c.align)}>${escapeHtml(c.title)}</th>`).join('')}</tr>`;
      const rows = block.rows.map((r) => `<tr>${r.map((cell, i) => `<td${cls(block.columns[i]?.align)}>${inlineHtml([cell])}</td>`).join('')}</tr>`);
      return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
    }
    case 'chart':
      return `<figure role="img" aria-label="${escapeHtml(block.alt)}" data-chart="${escapeHtml(block.file)}">${(svgs.get(block.file) ?? '').replace(/^<\?xml[^>]*>\s*/, '').trimEnd()}</figure>`;
    case 'markdown':
      return `<pre class="template">${escapeHtml(block.text.trimEnd())}</pre>`;
  }
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.5}
h1{border-bottom:1px solid #d0d7de;padding-bottom:.3em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em;display:block;overflow-x:auto}th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}code{background:#f6f8fa;padding:.1em .3em;border-radius:4px;font-size:.9em}
figure{margin:1em 0;overflow-x:auto}nav a{margin-right:.8em}pre.template{white-space:pre-wrap;background:#f6f8fa;padding:1em}`;

export function reportHtml(doc: ReportDocument, svgs: ReadonlyMap<string, string>): string {
  const nav = doc.sections.filter((s) => s.title !== '').map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join('');
  const body = doc.sections
    .map((s) => [`<section id="${s.id}">`, s.title === '' ? '' : `<h2>${escapeHtml(s.title)}</h2>`, ...s.blocks.map((b) => blockHtml(b, svgs)), '</section>'].join('\n'))
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(doc.title)}</h1>
<p>${inlineHtml(doc.subtitle)}</p>
<nav>${nav}</nav>
${body}
</body>
</html>
`;
}
