/** The segment's terminal table and CSV rows (segments run through `usagelab query NAME`). */
import type { SegmentResult } from '../../analyses/segment/segment-analysis.js';
import { percent, type ResultRenderer } from '../result-output.js';

export const segmentRenderer: ResultRenderer<SegmentResult> = {
  table(result) {
    let out = `${result.name}: ${result.people.toLocaleString('en-US')} people (${percent(result.share_of_people)} of ${result.all_people.toLocaleString('en-US')})\n`;
    if (result.person_ids !== undefined) out += `${result.person_ids.join('\n')}${result.person_ids.length > 0 ? '\n' : ''}`;
    return out;
  },
  csvRows(result) {
    if (result.person_ids !== undefined) return result.person_ids.map((person_id) => ({ segment: result.name, person_id }));
    return [{ segment: result.name, people: result.people, all_people: result.all_people, share_of_people: result.share_of_people }];
  },
};
