/*
 * Internal: calendar arithmetic, local wall-clock time and the text fields
 * shared by schedules (schedule.c) and retention (retention.c).
 *
 * A "wall" value is a local wall-clock time counted like a UTC time: seconds
 * since 1970-01-01 00:00 of the local calendar. wall / 86400 is the local
 * date as a day number (1970-01-01 = 0, a Thursday).
 */
#ifndef OB_NATIVE_SCHEDULE_INTERNAL_H
#define OB_NATIVE_SCHEDULE_INTERNAL_H

#include "obagent/schedule.h"
#include "util/util.h"

#include <stdint.h>

/** Division and remainder rounding towards minus infinity. */
int64_t ob_cal_floordiv(int64_t a, int64_t b);
int64_t ob_cal_floormod(int64_t a, int64_t b);

/** Day number of a proleptic Gregorian date (1970-01-01 = 0) and back. */
int64_t ob_cal_days(int64_t year, int month, int day);
void ob_cal_date(int64_t days, int64_t *year, int *month, int *day);
/** 0 Sunday .. 6 Saturday. */
int ob_cal_weekday(int64_t days);
/** Days in a month (1..12) of a year. */
int ob_cal_month_length(int64_t year, int month);
/** The day number `months` months after `days` (negative: before); the day is clamped to the month's end. */
int64_t ob_cal_add_months(int64_t days, int64_t months);

/** Local wall-clock value of the instant t. OB_EINVALID when out of range. */
int ob_local_from_utc(int64_t *out_wall, int64_t t);
/**
 * The instant at which the local wall clock shows `wall`: the first of two
 * when it shows it twice, the end of the gap when it never does (see
 * schedule.h). OB_EINVALID when out of range.
 */
int ob_local_to_utc(int64_t *out_t, int64_t wall);

/* ---- text fields ("Sunday,Monday", "02:00,16:30", "Last") ---- */

/** Names of the days (0 Sunday), months (0 January) and weeks of a month (0 First). */
extern const char *const ob_day_names[7];
extern const char *const ob_month_names[12];
extern const char *const ob_week_names[5];

/** Append the names whose bits are set in mask, comma-separated. */
int ob_fmt_names(ob_buf *b, unsigned int mask, const char *const *names, int count);
/** Parse a comma-separated list of names into a mask; -1 on anything else (duplicates too). */
int ob_parse_names(unsigned int *mask, const char *text, const char *const *names, int count);
/** Append times as "HH:MM,HH:MM". */
int ob_fmt_times(ob_buf *b, const int *times, size_t count);
/** Parse "HH:MM[,HH:MM...]" (at most max); -1 on anything else. */
int ob_parse_times(int *times, size_t *count, size_t max, const char *text);

/** A canonical decimal count: digits only, no sign, no leading zero, at most 12 digits; -1 otherwise. */
int ob_parse_count(int64_t *out, const char *text);

/**
 * Split "<kind> key=value key=value" (single spaces, no empty values) in the
 * writable copy `text`. Keys must be in `keys` (n of them) and appear once;
 * values[i] receives the value of keys[i] or NULL. OB_EINVALID with a message
 * that names `what` otherwise.
 */
int ob_fields_split(char *text, const char *kind, const char *const *keys, const char **values,
	size_t n, const char *what);

/** Check a list of times of day: 1..3, each 0..1439, distinct; message names `param`. */
int ob_check_times(const int *times, size_t count, const char *param);

#endif
