/**
 * Names of calendar intervals and week starts, shared by every dialect's time-bucket SQL (the analyses define the
 * same lists in analyses/common/time-buckets.ts; the sql module may not import analyses).
 */
export type CalendarIntervalName = 'day' | 'week' | 'month';
export type WeekStartName = 'monday' | 'sunday' | 'saturday';
