/**
 * The report as data: sections of blocks (headings, paragraphs, lists, tables, charts) that the Markdown and
 * HTML writers render. Sections build blocks, never Markdown text, so both outputs say the same thing and every
 * cell is escaped by the writer that knows the format.
 */

/** Inline text: plain, `code`, a link, or emphasis. */
export type Inline = string | { code: string } | { link: string; href: string } | { strong: string };

export type Align = 'left' | 'right';

export interface TableBlock {
  type: 'table';
  columns: { title: string; align?: Align }[];
  rows: Inline[][];
}

export interface ChartBlock {
  type: 'chart';
  /** File name under reports/YYYY-MM/, e.g. active-users.svg. */
  file: string;
  /** Alt text: what the chart shows, in words. */
  alt: string;
  /** A vega-lite specification (data inline). */
  spec: object;
}

export type Block =
  | { type: 'heading'; level: 2 | 3; text: string; id?: string }
  | { type: 'paragraph'; content: Inline[] }
  | { type: 'list'; items: Inline[][] }
  | TableBlock
  | ChartBlock
  /** Markdown written by the team (a template's own text): copied as it is into Markdown, shown as text in HTML. */
  | { type: 'markdown'; text: string };

export interface ReportSection {
  id: string;
  title: string;
  blocks: Block[];
}

export interface ReportDocument {
  title: string;
  /** Lines under the title (project, month, time zone). */
  subtitle: Inline[];
  sections: ReportSection[];
}

export const p = (...content: Inline[]): Block => ({ type: 'paragraph', content });
export const h3 = (text: string): Block => ({ type: 'heading', level: 3, text });
export const code = (text: string): Inline => ({ code: text });
export const strong = (text: string): Inline => ({ strong: text });
export const link = (text: string, href: string): Inline => ({ link: text, href });

export function table(columns: (string | { title: string; align?: Align })[], rows: Inline[][]): TableBlock {
  return { type: 'table', columns: columns.map((c) => (typeof c === 'string' ? { title: c } : c)), rows };
}

/** Every chart of the document, in order. */
export function chartsOf(doc: ReportDocument): ChartBlock[] {
  return doc.sections.flatMap((s) => s.blocks.filter((b): b is ChartBlock => b.type === 'chart'));
}
