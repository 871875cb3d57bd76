/**
 * The report document as GitHub-flavoured Markdown. Cells and text are escaped here (pipes, backslashes, line
 * breaks), so values from the data (page paths, element texts) cannot break a table or inject markup.
 */
import type { Block, Inline, ReportDocument } from './report-document.js';

function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/([`*_[\]<>|#])/g, '\\$1').replace(/\r?\n/g, ' ');
}

function codeSpan(text: string): string {
  const clean = text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  const fence = clean.includes('`') ? '``' : '`';
  return `${fence}${fence === '``' ? ' ' : ''}${clean}${fence === '``' ? ' ' : ''}${fence}`;
}

export function inlineMarkdown(parts: readonly Inline[]): string {
  return parts
    .map((x) => {
      if (typeof x === 'string') return escapeText(x);
      if ('code' in x) return codeSpan(x.code);
      if ('strong' in x) return `**${escapeText(x.strong)}**`;
      return `[${escapeText(x.link)}](${x.href.replace(/[()\s]/g, encodeURIComponent)})`;
    })
    .join('');
}

function blockMarkdown(block: Block, chartDir: string): string {
  switch (block.type) {
    case 'heading':
      return `${'#'.repeat(block.level)} ${escapeText(block.text)}`;
    case 'paragraph':
      return inlineMarkdown(block.content);
    case 'list':
      return block.items.map((item) => `- ${inlineMarkdown(item)}`).join('\n');
    case 'table': {
      const head = `| ${block.columns.map((c) => escapeText(c.title)).join(' | ')} |`;
      const rule = `| ${block.columns.map((c) => (c.align === 'right' ? '---:' : '---')).join(' | ')} |`;
      const rows = block.rows.map((r) => `| ${r.map((cell) => inlineMarkdown([cell]) || ' ').join(' | ')} |`);
      return [head, rule, ...rows].join('\n');
    }
    case 'chart':
      return `![${escapeText(block.alt)}](${chartDir}/${block.file})`;
    case 'markdown':
      return block.text.trimEnd();
  }
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as dashes. */
export function headingAnchor(title: string): string {
  return title.toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').trim().replace(/\s/g, '-');
}

/** `chartDir`: the charts' folder relative to the Markdown file (e.g. "2024-03"). */
export function reportMarkdown(doc: ReportDocument, chartDir: string): string {
  const parts = [`# ${escapeText(doc.title)}`, inlineMarkdown(doc.subtitle)];
  parts.push(doc.sections.filter((s) => s.title !== '').map((s) => `[${escapeText(s.title)}](#${headingAnchor(s.title)})`).join(' · '));
  for (const section of doc.sections) {
    if (section.title !== '') parts.push(`## ${escapeText(section.title)}`);
    for (const block of section.blocks) parts.push(blockMarkdown(block, chartDir));
  }
  return `${parts.filter((x) => x !== '').join('\n\n')}\n`;
}
