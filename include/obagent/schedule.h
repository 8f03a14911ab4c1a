/*
 * obagent: backup schedules and retention rules, as pure values.
 *
 * A schedule says when backups run (MARS New-OBSchedule); a retention policy
 * says which recovery points are kept (MARS New-OBRetentionPolicy). Both are
 * plain structs that the caller fills, checks with their _validate function
 * and stores as one line of text (_to_string / _from_string, the catalog's
 * policy.schedule and policy.retention columns). Nothing here touches the
 * disk, the vault or the clock: every function that needs "now" takes it as
 * an argument (the service passes ob_clock_now's value).
 *
 * Local time. Schedules and retention slots are wall-clock times of the
 * machine's time zone (the TZ variable is respected, as localtime_r does).
 * Daylight saving time, in every function of this header:
 *  - a wall-clock time that does not exist (the hour skipped when clocks go
 *    forward) means the first moment after the gap: 02:30 on a day that jumps
 *    from 02:00 to 03:00 means 03:00; two scheduled times that fall into the
 *    same gap become one moment, so one backup;
 *  - a wall-clock time that occurs twice (clocks go back) means its first
 *    occurrence only: a backup at 02:30 runs once, at 02:30 summer time.
 * MARS leaves its scheduled tasks on the old offset until the policy is edited
 * (mars.md 3.4); obagent follows the wall clock instead, which is what the
 * administrator typed.
 *
 * Days of the week are bit masks, bit 0 Sunday to bit 6 Saturday, as .NET's
 * DayOfWeek numbers them. Times of day are minutes after midnight (0..1439).
 * docs/RETENTION.md gives the reasoning behind the retention rules.
 *
 * Thread safety: every function works on its arguments only and may be called
 * from any thread. localtime_r reads the process's time zone, so do not change
 * TZ while another thread uses these functions.
 */
#ifndef OBAGENT_SCHEDULE_H
#define OBAGENT_SCHEDULE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Days of the week, bit masks (DayOfWeek numbering: Sunday = 0). */
#define OB_SUNDAY    0x01u
#define OB_MONDAY    0x02u
#define OB_TUESDAY   0x04u
#define OB_WEDNESDAY 0x08u
#define OB_THURSDAY  0x10u
#define OB_FRIDAY    0x20u
#define OB_SATURDAY  0x40u
#define OB_EVERY_DAY 0x7fu

/** Weeks of a month (MARS WeekNumber): days 1-7, 8-14, 15-21, 22-28, the last 7 days. */
#define OB_WEEK_FIRST  0x01u
#define OB_WEEK_SECOND 0x02u
#define OB_WEEK_THIRD  0x04u
#define OB_WEEK_FOURTH 0x08u
#define OB_WEEK_LAST   0x10u

/** Days of a month: OB_MONTHDAY(1) .. OB_MONTHDAY(28), and the last day of the month. */
#define OB_MONTHDAY(d)    (1u << ((d) - 1))
#define OB_MONTHDAY_LAST  0x80000000u

/** Months of the year: bit 0 January .. bit 11 December. */
#define OB_MONTH(m)       (1u << ((m) - 1))

/** Scheduled backups a day, at most (MARS: 3 for files and folders, 1 for System State). */
#define OB_SCHEDULE_MAX_TIMES 3

/* ------------------------------------------------------------------ */
/* Schedules                                                           */
/* ------------------------------------------------------------------ */

#define OB_SCHEDULE_VERSION 1

/**
 * When backups run: on the days in `days`, at each of `times`, in the weeks
 * counted from `anchor_date` that are a multiple of `weekly_frequency` apart.
 *
 * Weeks start on Sunday. The week that holds anchor_date is week 0; with
 * weekly_frequency N the schedule runs in weeks 0, N, 2N, ... (and -N, ...).
 * The anchor is the local date on which the policy was committed
 * (ob_schedule_set_anchor); with weekly_frequency 1 it does not matter.
 *
 * MARS's console offers times on the half hour; this API accepts any minute.
 */
typedef struct ob_schedule {
	unsigned int version;          /**< OB_SCHEDULE_VERSION */
	unsigned int days;             /**< OB_SUNDAY | ...; at least one day */
	size_t time_count;             /**< 1 .. OB_SCHEDULE_MAX_TIMES (1 for System State) */
	int times[OB_SCHEDULE_MAX_TIMES]; /**< minutes after midnight, 0..1439, distinct */
	int weekly_frequency;          /**< every N weeks, 1..4 */
	int64_t anchor_date;           /**< local calendar date, days since 1970-01-01 */
	int system_state;              /**< nonzero: a System State schedule, once a day at most */
} ob_schedule;

/** The MARS default: every Sunday at 21:00, every week. */
#define OB_SCHEDULE_INIT { OB_SCHEDULE_VERSION, OB_SUNDAY, 1, { 21 * 60, 0, 0 }, 1, 0, 0 }

/**
 * Check a schedule and normalise it: its times are sorted in place.
 * OB_EINVALID, with a message naming the allowed values, for: a version this
 * library does not know, no day or a bit beyond Saturday, no time or more
 * than 3 ("at most 3 times a day"), a System State schedule with more than one
 * time ("a System State schedule runs at most once a day"), a time outside
 * 0..1439 or given twice, WeeklyFrequency outside 1..4, an anchor date
 * outside the years 1900..9999.
 */
OB_EXTERN(int) ob_schedule_validate(ob_schedule *schedule);

/**
 * Set the anchor date to the local date of the moment t (seconds since 1970
 * UTC), normally the time the policy is committed. OB_EINVALID if t cannot
 * be converted to local time.
 */
OB_EXTERN(int) ob_schedule_set_anchor(ob_schedule *schedule, int64_t t);

/**
 * *out = the first scheduled moment strictly after `after` (both seconds
 * since 1970 UTC), in the machine's local time with the daylight-saving rules
 * at the top of this header. The schedule must validate (OB_EINVALID
 * otherwise; it is not modified).
 */
OB_EXTERN(int) ob_schedule_next(int64_t *out, const ob_schedule *schedule, int64_t after);

/**
 * *out = the last scheduled moment at or before `at` (the mirror of
 * ob_schedule_next).
 */
OB_EXTERN(int) ob_schedule_prev(int64_t *out, const ob_schedule *schedule, int64_t at);

/**
 * Whether a scheduled run is owed: *out_missed = 1 when at least one
 * scheduled moment lies in (last_run, now], and then *out_slot = the latest
 * of them; otherwise *out_missed = 0 and *out_slot = 0. out_slot may be NULL.
 *
 * last_run is the time the last scheduled (or catch-up) backup started, or
 * the commit time of a policy that has not run yet. However many moments were
 * passed while the machine was off, the service runs ONE backup for them
 * (a catch-up, not a burst), then records its start time as the new last_run.
 * A moment that is due right now is reported the same way.
 */
OB_EXTERN(int) ob_schedule_missed(int *out_missed, int64_t *out_slot,
	const ob_schedule *schedule, int64_t last_run, int64_t now);

/**
 * The schedule as one line of text, e.g.
 *   "schedule/1 DaysOfWeek=Sunday,Saturday TimesOfDay=16:00,21:30
 *    WeeklyFrequency=1 AnchorDate=2024-03-02 SystemState=0"
 * (one line, single spaces). The schedule must validate; its times are
 * written sorted. *out: ob_str_free.
 */
OB_EXTERN(int) ob_schedule_to_string(char **out, const ob_schedule *schedule);

/**
 * Parse what ob_schedule_to_string wrote. Every field is required, each once,
 * in any order; the result is validated. OB_EINVALID on anything else, with
 * a message naming the bad field. *out is written only on success.
 */
OB_EXTERN(int) ob_schedule_from_string(ob_schedule *out, const char *text);

/* ------------------------------------------------------------------ */
/* Retention                                                           */
/* ------------------------------------------------------------------ */

#define OB_RETENTION_VERSION 1

/** Retention ranges (MARS support matrix). */
#define OB_RETENTION_DAYS_MIN    7
#define OB_RETENTION_DAYS_MAX    9999
#define OB_RETENTION_WEEKS_MIN   4
#define OB_RETENTION_WEEKS_MAX   5163
#define OB_RETENTION_MONTHS_MIN  3
#define OB_RETENTION_MONTHS_MAX  1188
#define OB_RETENTION_YEARS_MIN   1
#define OB_RETENTION_YEARS_MAX   99

/**
 * A long-term rule: weekly, monthly or yearly. It names slots (a day and a
 * time of day) and keeps the point of each slot for `count` weeks, months or
 * years. count 0 switches the rule off; every other field must then be 0.
 *
 * Which fields a rule uses:
 *  - weekly:  days_of_week, times (WeekDaysOfWeek, WeekTimesOfDay, RetentionWeeks);
 *  - monthly: either days_of_month (MonthDaysOfMonth, 1..28 and Last) or
 *             weeks_of_month with days_of_week (MonthWeeksOfMonth,
 *             MonthDaysOfWeek); times (MonthTimesOfDay); RetentionMonths;
 *  - yearly:  months_of_year (YearMonthsOfYear) and the monthly day forms
 *             (YearDaysOfMonth, or YearWeeksOfMonth with YearDaysOfWeek);
 *             times (YearTimesOfDay); RetentionYears.
 */
typedef struct ob_retention_rule {
	int64_t count;                 /**< weeks, months or years; 0: rule off */
	unsigned int days_of_week;     /**< OB_SUNDAY | ... */
	unsigned int weeks_of_month;   /**< OB_WEEK_FIRST | ... | OB_WEEK_LAST */
	uint32_t days_of_month;        /**< OB_MONTHDAY(d) | OB_MONTHDAY_LAST */
	unsigned int months_of_year;   /**< OB_MONTH(m) | ... (yearly only) */
	size_t time_count;             /**< 1 .. OB_SCHEDULE_MAX_TIMES */
	int times[OB_SCHEDULE_MAX_TIMES]; /**< minutes after midnight, distinct */
} ob_retention_rule;

/** A retention policy: any rule that keeps a point keeps it. */
typedef struct ob_retention {
	unsigned int version;          /**< OB_RETENTION_VERSION */
	int64_t days;                  /**< RetentionDays, 7..9999; 0: no daily rule */
	ob_retention_rule weekly;
	ob_retention_rule monthly;
	ob_retention_rule yearly;
} ob_retention;

/** No rule set (not valid as it is: set RetentionDays or a long-term rule). */
#define OB_RETENTION_INIT { OB_RETENTION_VERSION, 0, { 0 }, { 0 }, { 0 } }

/**
 * Check a retention policy. OB_EINVALID, with a message that names the
 * parameter and its allowed values ("RetentionDays must be from 7 to 9999;
 * 5 was given"), for: no rule at all, a count out of its range, a rule with
 * no day or no time, more than 3 times, a time outside 0..1439 or given
 * twice, fields that the rule does not use, a monthly or yearly rule with
 * both day forms or neither, no month in a yearly rule.
 *
 * With a schedule (not NULL), also as MARS ("retention attaches to backup
 * points"): every long-term time must be a time the schedule runs, every
 * day of week a day it runs, and the day-of-month form needs a schedule
 * that runs on all seven days. The daily rule fits any schedule (Microsoft's
 * example: Saturday and Sunday at 16:00 with RetentionDays 7).
 */
OB_EXTERN(int) ob_retention_validate(const ob_retention *retention, const ob_schedule *schedule);

/**
 * The policy as one line of text with the MARS parameter names, e.g.
 *   "retention/1 RetentionDays=32 RetentionWeeks=13 WeekDaysOfWeek=Sunday
 *    WeekTimesOfDay=02:00 RetentionMonths=13 MonthDaysOfMonth=1
 *    MonthTimesOfDay=02:00"
 * Rules that are off are left out. The policy must validate (without a
 * schedule). *out: ob_str_free.
 */
OB_EXTERN(int) ob_retention_to_string(char **out, const ob_retention *retention);

/** Parse what ob_retention_to_string wrote; validated; OB_EINVALID otherwise. */
OB_EXTERN(int) ob_retention_from_string(ob_retention *out, const char *text);

/** A recovery point, as retention sees it. */
typedef struct ob_point_time {
	int64_t time;                  /**< the backup time, seconds since 1970 UTC */
	int64_t retain_until;          /**< on-demand "Retain Backup Till"; 0: none */
} ob_point_time;

/** Why a point is kept: the flags ob_retention_select writes (0: prune it). */
#define OB_KEEP_NEWEST   0x01u
#define OB_KEEP_DAILY    0x02u
#define OB_KEEP_WEEKLY   0x04u
#define OB_KEEP_MONTHLY  0x08u
#define OB_KEEP_YEARLY   0x10u
#define OB_KEEP_ONDEMAND 0x20u
#define OB_KEEP_FUTURE   0x40u

/**
 * Decide which points to keep at time `now`. keep[i] receives the OB_KEEP_*
 * flags of points[i] (0 means the point may be pruned). Points may come in
 * any order. The rules (docs/RETENTION.md):
 *
 *  - newest:   the newest point is always kept;
 *  - future:   a point later than now is kept (clock trouble; judge it later);
 *  - ondemand: a point with retain_until is kept while now < retain_until;
 *  - daily:    a point is kept while now < its local wall-clock time plus
 *              RetentionDays days;
 *  - weekly, monthly, yearly: each slot (a local date that the rule names,
 *              at one of its times) with slot <= now < slot + count weeks,
 *              months or years (same wall-clock time; a day that does not
 *              exist in the target month becomes its last day) keeps ONE
 *              point: the first point whose time is at or after the slot.
 *              When the backup of the slot failed, the next successful one
 *              (even an on-demand one) takes its place; when no point is at
 *              or after the slot, the slot keeps nothing.
 *
 * Slots are calendar slots: they do not depend on the schedule's weekly
 * frequency. OB_EINVALID when the policy does not validate, OB_ENOMEM.
 */
OB_EXTERN(int) ob_retention_select(uint8_t *keep, const ob_point_time *points, size_t count,
	const ob_retention *retention, int64_t now);

#ifdef __cplusplus
}
#endif
#endif
