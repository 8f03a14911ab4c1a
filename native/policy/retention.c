/*
 * Retention: the checks of a policy (ranges, and "retention attaches to
 * backup points"), its one-line text form, and the selection of the points
 * to keep.
 *
 * The selection rules (docs/RETENTION.md has the reasoning):
 *  1. The newest point is always kept (OB_KEEP_NEWEST); a point later than
 *     now is kept too (OB_KEEP_FUTURE).
 *  2. On demand: kept while now < retain_until (OB_KEEP_ONDEMAND).
 *  3. Daily: kept while now < the instant at which the local wall clock shows
 *     the point's own wall-clock time RetentionDays days later (OB_KEEP_DAILY).
 *  4. Weekly, monthly, yearly: a slot is a local date that the rule names, at
 *     one of the rule's times; its instant follows the DST rules of
 *     schedule.h. A slot is live when slot <= now < expiry, where the expiry
 *     is the same wall-clock time `count` weeks (7 days), months or years
 *     later (a 31st, or February 29th, becomes the last day of the target
 *     month). Each live slot keeps the first point whose time is at or after
 *     the slot: the scheduled backup, or, when that one failed, the next
 *     successful backup, scheduled or not. A slot with no point at or after
 *     it keeps nothing. Slots are pure calendar: the schedule's weekly
 *     frequency does not thin them out.
 *  The flags of all rules that keep a point are or'ed; 0 means prune.
 */
#include "policy/schedule_internal.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

#define DAY 86400

enum { RULE_WEEKLY, RULE_MONTHLY, RULE_YEARLY };

/* The MARS parameter names of a rule's fields (NULL: the rule has no such field). */
typedef struct rule_desc {
	const char *name;
	const char *count;
	const char *months;
	const char *days_of_month;
	const char *weeks_of_month;
	const char *days_of_week;
	const char *times;
	int64_t min, max;
	unsigned int flag;
} rule_desc;

static const rule_desc rule_descs[3] = {
	{ "weekly", "RetentionWeeks", NULL, NULL, NULL, "WeekDaysOfWeek", "WeekTimesOfDay",
	  OB_RETENTION_WEEKS_MIN, OB_RETENTION_WEEKS_MAX, OB_KEEP_WEEKLY },
	{ "monthly", "RetentionMonths", NULL, "MonthDaysOfMonth", "MonthWeeksOfMonth", "MonthDaysOfWeek",
	  "MonthTimesOfDay", OB_RETENTION_MONTHS_MIN, OB_RETENTION_MONTHS_MAX, OB_KEEP_MONTHLY },
	{ "yearly", "RetentionYears", "YearMonthsOfYear", "YearDaysOfMonth", "YearWeeksOfMonth",
	  "YearDaysOfWeek", "YearTimesOfDay", OB_RETENTION_YEARS_MIN, OB_RETENTION_YEARS_MAX, OB_KEEP_YEARLY },
};

#define MONTHDAY_BITS 0x0fffffffu   /* days 1..28 */
#define WEEK_BITS     0x1fu
#define MONTH_BITS    0xfffu

static const ob_retention_rule *rule_of(const ob_retention *r, int kind)
{
	return kind == RULE_WEEKLY ? &r->weekly : kind == RULE_MONTHLY ? &r->monthly : &r->yearly;
}

static ob_retention_rule *rule_of_mut(ob_retention *r, int kind)
{
	return kind == RULE_WEEKLY ? &r->weekly : kind == RULE_MONTHLY ? &r->monthly : &r->yearly;
}

/* ---- checks ---- */

static int invalid(const char *fmt, const char *a, const char *b)
{
	return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, fmt, a, b);
}

static int check_rule(const ob_retention_rule *r, const rule_desc *d, const ob_schedule *s)
{
	int day_form, week_form, error;
	size_t i, j;

	if (r->count == 0) {
		if (r->days_of_week || r->weeks_of_month || r->days_of_month || r->months_of_year || r->time_count)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"the %s rule has days or times but no %s; give %s (%lld to %lld) or leave the %s rule out",
				d->name, d->count, d->count, (long long)d->min, (long long)d->max, d->name);
		return 0;
	}
	if (r->count < d->min || r->count > d->max)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "%s must be from %lld to %lld; %lld was given",
			d->count, (long long)d->min, (long long)d->max, (long long)r->count);

	if (!d->months && r->months_of_year)
		return invalid("the %s rule takes no months of the year (%s is for yearly rules)", d->name, "YearMonthsOfYear");
	if (d->months && ((r->months_of_year & MONTH_BITS) == 0 || (r->months_of_year & ~MONTH_BITS)))
		return invalid("%s must name at least one month, from January to December (the %s rule)", d->months, d->name);

	if (!d->days_of_month) {
		if (r->weeks_of_month || r->days_of_month)
			return invalid("the %s rule takes only %s and its times; weeks and days of the month are for monthly and yearly rules",
				d->name, d->days_of_week);
		if ((r->days_of_week & OB_EVERY_DAY) == 0 || (r->days_of_week & ~OB_EVERY_DAY))
			return invalid("%s must name at least one day, from Sunday to Saturday%s", d->days_of_week, "");
	} else {
		day_form = r->days_of_month != 0;
		week_form = r->weeks_of_month != 0 || r->days_of_week != 0;
		if (day_form && week_form)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"the %s rule takes either %s or %s with %s, not both",
				d->name, d->days_of_month, d->weeks_of_month, d->days_of_week);
		if (!day_form && !week_form)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"the %s rule needs %s, or %s with %s",
				d->name, d->days_of_month, d->weeks_of_month, d->days_of_week);
		if (day_form && (r->days_of_month & ~(MONTHDAY_BITS | OB_MONTHDAY_LAST)))
			return invalid("%s must be days 1 to 28 or Last%s", d->days_of_month, "");
		if (week_form && ((r->weeks_of_month & WEEK_BITS) == 0 || (r->weeks_of_month & ~WEEK_BITS)))
			return invalid("%s must name at least one of First, Second, Third, Fourth, Last (with %s)",
				d->weeks_of_month, d->days_of_week);
		if (week_form && ((r->days_of_week & OB_EVERY_DAY) == 0 || (r->days_of_week & ~OB_EVERY_DAY)))
			return invalid("%s must name at least one day, from Sunday to Saturday (with %s)",
				d->days_of_week, d->weeks_of_month);
	}
	if ((error = ob_check_times(r->times, r->time_count, d->times)) < 0)
		return error;
	if (!s)
		return 0;

	/* Retention attaches to backup points: only scheduled days and times. */
	for (i = 0; i < r->time_count; i++) {
		for (j = 0; j < s->time_count; j++)
			if (s->times[j] == r->times[i])
				break;
		if (j == s->time_count) {
			ob_buf b = OB_BUF_INIT;
			ob_fmt_times(&b, s->times, s->time_count);
			error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"%s: %02d:%02d is not a time the schedule runs (%s); long-term retention keeps scheduled backups only",
				d->times, r->times[i] / 60, r->times[i] % 60, b.data ? b.data : "");
			ob_buf_dispose(&b);
			return error;
		}
	}
	if (r->days_of_week & ~s->days) {
		for (i = 0; i < 7; i++)
			if ((r->days_of_week & ~s->days) & (1u << i))
				break;
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"%s: %s is not a day the schedule runs; long-term retention keeps scheduled backups only",
			d->days_of_week, ob_day_names[i]);
	}
	if (r->days_of_month && (s->days & OB_EVERY_DAY) != OB_EVERY_DAY)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"%s needs a schedule that runs every day of the week; with this schedule use %s with %s",
			d->days_of_month, d->weeks_of_month, d->days_of_week);
	return 0;
}

int ob_retention_validate(const ob_retention *r, const ob_schedule *schedule)
{
	ob_schedule s;
	int kind, error;

	if (!r)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "no retention policy was given");
	if (r->version != OB_RETENTION_VERSION)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"unknown retention version %u; initialise an ob_retention with OB_RETENTION_INIT", r->version);
	if (schedule) {
		s = *schedule;
		if ((error = ob_schedule_validate(&s)) < 0)
			return error;
	}
	if (r->days != 0 && (r->days < OB_RETENTION_DAYS_MIN || r->days > OB_RETENTION_DAYS_MAX))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "RetentionDays must be from %d to %d; %lld was given",
			OB_RETENTION_DAYS_MIN, OB_RETENTION_DAYS_MAX, (long long)r->days);
	for (kind = RULE_WEEKLY; kind <= RULE_YEARLY; kind++)
		if ((error = check_rule(rule_of(r, kind), &rule_descs[kind], schedule ? &s : NULL)) < 0)
			return error;
	if (r->days == 0 && r->weekly.count == 0 && r->monthly.count == 0 && r->yearly.count == 0)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"a retention policy needs RetentionDays (%d to %d) or a weekly, monthly or yearly rule",
			OB_RETENTION_DAYS_MIN, OB_RETENTION_DAYS_MAX);
	return 0;
}

/* ---- text ---- */

#define RETENTION_KIND "retention/1"

/* Keys: RetentionDays, then per rule: count, months, days of month, weeks, days of week, times. */
#define RULE_FIELDS 6
#define RETENTION_NKEYS (1 + 3 * RULE_FIELDS)

static void retention_keys(const char *keys[RETENTION_NKEYS])
{
	int kind;

	keys[0] = "RetentionDays";
	for (kind = 0; kind < 3; kind++) {
		const rule_desc *d = &rule_descs[kind];
		const char **k = keys + 1 + kind * RULE_FIELDS;
		/* a rule without a field gets a key no text can carry */
		k[0] = d->count;
		k[1] = d->months ? d->months : " ";
		k[2] = d->days_of_month ? d->days_of_month : " ";
		k[3] = d->weeks_of_month ? d->weeks_of_month : " ";
		k[4] = d->days_of_week;
		k[5] = d->times;
	}
}

static int fmt_month_days(ob_buf *b, uint32_t mask)
{
	int d, first = 1, error;

	for (d = 1; d <= 28; d++) {
		if (!(mask & OB_MONTHDAY(d)))
			continue;
		if ((error = ob_buf_printf(b, "%s%d", first ? "" : ",", d)) < 0)
			return error;
		first = 0;
	}
	if (mask & OB_MONTHDAY_LAST)
		return ob_buf_printf(b, "%sLast", first ? "" : ",");
	return 0;
}

static int parse_month_days(uint32_t *out, const char *text)
{
	uint32_t mask = 0, bit;
	const char *p = text;

	for (;;) {
		size_t n = strcspn(p, ",");
		char tmp[8];
		int64_t v;
		if (n == 0 || n >= sizeof(tmp))
			return -1;
		memcpy(tmp, p, n);
		tmp[n] = '\0';
		if (strcmp(tmp, "Last") == 0)
			bit = OB_MONTHDAY_LAST;
		else if (ob_parse_count(&v, tmp) == 0 && v >= 1 && v <= 28)
			bit = OB_MONTHDAY((uint32_t)v);
		else
			return -1;
		if (mask & bit)
			return -1;
		mask |= bit;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*out = mask;
	return 0;
}

int ob_retention_to_string(char **out, const ob_retention *r)
{
	ob_buf b = OB_BUF_INIT;
	int kind, error;

	if ((error = ob_retention_validate(r, NULL)) < 0)
		return error;
	if ((error = ob_buf_puts(&b, RETENTION_KIND)) < 0)
		goto done;
	if (r->days && (error = ob_buf_printf(&b, " RetentionDays=%lld", (long long)r->days)) < 0)
		goto done;
	for (kind = 0; kind < 3; kind++) {
		const rule_desc *d = &rule_descs[kind];
		const ob_retention_rule *rule = rule_of(r, kind);
		if (rule->count == 0)
			continue;
		if ((error = ob_buf_printf(&b, " %s=%lld", d->count, (long long)rule->count)) < 0)
			goto done;
		if (rule->months_of_year &&
		    ((error = ob_buf_printf(&b, " %s=", d->months)) < 0 ||
		     (error = ob_fmt_names(&b, rule->months_of_year, ob_month_names, 12)) < 0))
			goto done;
		if (rule->days_of_month &&
		    ((error = ob_buf_printf(&b, " %s=", d->days_of_month)) < 0 ||
		     (error = fmt_month_days(&b, rule->days_of_month)) < 0))
			goto done;
		if (rule->weeks_of_month &&
		    ((error = ob_buf_printf(&b, " %s=", d->weeks_of_month)) < 0 ||
		     (error = ob_fmt_names(&b, rule->weeks_of_month, ob_week_names, 5)) < 0))
			goto done;
		if (rule->days_of_week &&
		    ((error = ob_buf_printf(&b, " %s=", d->days_of_week)) < 0 ||
		     (error = ob_fmt_names(&b, rule->days_of_week, ob_day_names, 7)) < 0))
			goto done;
		if ((error = ob_buf_printf(&b, " %s=", d->times)) < 0 ||
		    (error = ob_fmt_times(&b, rule->times, rule->time_count)) < 0)
			goto done;
	}
	*out = ob_buf_detach(&b);
done:
	ob_buf_dispose(&b);
	return error;
}

static int bad_value(const char *key, const char *value, const char *want)
{
	return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "bad retention text: %s='%s' is not %s", key, value, want);
}

int ob_retention_from_string(ob_retention *out, const char *text)
{
	ob_retention r = OB_RETENTION_INIT;
	const char *keys[RETENTION_NKEYS], *v[RETENTION_NKEYS];
	char *copy;
	int kind, error;

	if (!text)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "no retention text was given");
	retention_keys(keys);
	if (!(copy = ob_strdup(text)))
		return OB_ENOMEM;
	if ((error = ob_fields_split(copy, RETENTION_KIND, keys, v, RETENTION_NKEYS, "retention")) < 0)
		goto done;
	if (v[0] && (ob_parse_count(&r.days, v[0]) < 0 || r.days == 0)) {
		error = bad_value(keys[0], v[0], "a number of days");
		goto done;
	}
	for (kind = 0; kind < 3; kind++) {
		ob_retention_rule *rule = rule_of_mut(&r, kind);
		const char **k = keys + 1 + kind * RULE_FIELDS, **f = v + 1 + kind * RULE_FIELDS;
		if (f[0] && (ob_parse_count(&rule->count, f[0]) < 0 || rule->count == 0)) {
			error = bad_value(k[0], f[0], "a positive number");
			goto done;
		}
		if (f[1] && ob_parse_names(&rule->months_of_year, f[1], ob_month_names, 12) < 0) {
			error = bad_value(k[1], f[1], "a list of month names (January,February,...)");
			goto done;
		}
		if (f[2] && parse_month_days(&rule->days_of_month, f[2]) < 0) {
			error = bad_value(k[2], f[2], "a list of days 1 to 28 and Last");
			goto done;
		}
		if (f[3] && ob_parse_names(&rule->weeks_of_month, f[3], ob_week_names, 5) < 0) {
			error = bad_value(k[3], f[3], "a list of First, Second, Third, Fourth, Last");
			goto done;
		}
		if (f[4] && ob_parse_names(&rule->days_of_week, f[4], ob_day_names, 7) < 0) {
			error = bad_value(k[4], f[4], "a list of day names (Sunday,Monday,...)");
			goto done;
		}
		if (f[5] && ob_parse_times(rule->times, &rule->time_count, OB_SCHEDULE_MAX_TIMES, f[5]) < 0) {
			error = bad_value(k[5], f[5], "1 to 3 times HH:MM separated by commas");
			goto done;
		}
	}
	if ((error = ob_retention_validate(&r, NULL)) < 0)
		goto done;
	*out = r;
done:
	free(copy);
	return error;
}

/* ---- selection ---- */

typedef struct sorted_point {
	int64_t time;
	size_t index;
} sorted_point;

static int by_time(const void *a, const void *b)
{
	const sorted_point *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The first sorted point at or after t, or n. */
static size_t first_at_or_after(const sorted_point *p, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p[mid].time < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Does the rule name this local date? */
static int rule_names_day(const ob_retention_rule *r, int kind, int64_t day)
{
	int64_t y;
	int m, d, len, wd = ob_cal_weekday(day);

	if (kind == RULE_WEEKLY)
		return (r->days_of_week >> wd) & 1;
	ob_cal_date(day, &y, &m, &d);
	if (kind == RULE_YEARLY && !((r->months_of_year >> (m - 1)) & 1))
		return 0;
	len = ob_cal_month_length(y, m);
	if (r->days_of_month)
		return (d <= 28 && (r->days_of_month & OB_MONTHDAY(d))) ||
			((r->days_of_month & OB_MONTHDAY_LAST) && d == len);
	if (!((r->days_of_week >> wd) & 1))
		return 0;
	return (d <= 28 && ((r->weeks_of_month >> ((d - 1) / 7)) & 1)) ||
		((r->weeks_of_month & OB_WEEK_LAST) && d > len - 7);
}

/* The local date `count` units after day. */
static int64_t add_units(int kind, int64_t day, int64_t count)
{
	if (kind == RULE_WEEKLY)
		return day + 7 * count;
	return ob_cal_add_months(day, kind == RULE_MONTHLY ? count : 12 * count);
}

static int select_rule(uint8_t *keep, const sorted_point *sp, size_t n, const ob_retention_rule *r,
	int kind, int64_t now, int64_t today)
{
	int64_t day, first, slot, expiry;
	size_t i, at;
	int error;

	/* The oldest live slot is dated no earlier than today - count units (a day of slack for offsets). */
	first = add_units(kind, today, -r->count) - 1;
	for (day = first; day <= today + 1; day++) {
		if (!rule_names_day(r, kind, day))
			continue;
		for (i = 0; i < r->time_count; i++) {
			int64_t wall = day * DAY + r->times[i] * 60;
			if ((error = ob_local_to_utc(&slot, wall)) < 0)
				return error;
			if (slot > now)
				continue;
			/* An expiry dated two days past today is surely after now. */
			if (add_units(kind, day, r->count) <= today + 1) {
				if ((error = ob_local_to_utc(&expiry, add_units(kind, day, r->count) * DAY + r->times[i] * 60)) < 0)
					return error;
				if (now >= expiry)
					continue;
			}
			at = first_at_or_after(sp, n, slot);
			if (at < n)
				keep[sp[at].index] |= rule_descs[kind].flag;
		}
	}
	return 0;
}

int ob_retention_select(uint8_t *keep, const ob_point_time *points, size_t count,
	const ob_retention *r, int64_t now)
{
	sorted_point *sp = NULL;
	int64_t wall_now, today, wall, expiry;
	size_t i;
	int kind, error;

	if ((error = ob_retention_validate(r, NULL)) < 0)
		return error;
	if (count == 0)
		return 0;
	if (!keep || !points)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "no points or no keep array was given");
	if ((error = ob_local_from_utc(&wall_now, now)) < 0)
		return error;
	today = ob_cal_floordiv(wall_now, DAY);
	if (count > SIZE_MAX / sizeof(*sp) || !(sp = malloc(count * sizeof(*sp))))
		return ob_err_nomem();
	for (i = 0; i < count; i++) {
		sp[i].time = points[i].time;
		sp[i].index = i;
		keep[i] = 0;
	}
	qsort(sp, count, sizeof(*sp), by_time);
	keep[sp[count - 1].index] |= OB_KEEP_NEWEST;

	for (i = 0; i < count; i++) {
		const ob_point_time *p = &points[i];
		if (p->time > now)
			keep[i] |= OB_KEEP_FUTURE;
		if (p->retain_until && now < p->retain_until)
			keep[i] |= OB_KEEP_ONDEMAND;
		if (r->days) {
			if ((error = ob_local_from_utc(&wall, p->time)) < 0 ||
			    (error = ob_local_to_utc(&expiry, wall + r->days * DAY)) < 0)
				goto done;
			if (now < expiry)
				keep[i] |= OB_KEEP_DAILY;
		}
	}
	for (kind = RULE_WEEKLY; kind <= RULE_YEARLY; kind++) {
		const ob_retention_rule *rule = rule_of(r, kind);
		if (rule->count && (error = select_rule(keep, sp, count, rule, kind, now, today)) < 0)
			goto done;
	}
done:
	free(sp);
	return error;
}
