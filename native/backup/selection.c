/* Selection rules: which paths of a data source its inclusions and exclusions take. */
#define _GNU_SOURCE
#include "backup/backup_internal.h"
#include "platform/platform.h"

#include <stdlib.h>
#include <string.h>

void ob_rules_dispose(ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		free(rs->r[i].base);
		free(rs->r[i].pattern);
	}
	free(rs->r);
	memset(rs, 0, sizeof(*rs));
}

int ob_rules_build(ruleset *rs, const ob_backup_source *src)
{
	size_t i;

	memset(rs, 0, sizeof(*rs));
	if (!(rs->r = calloc(src->spec_count ? src->spec_count : 1, sizeof(rule))))
		return ob_err_nomem();
	for (i = 0; i < src->spec_count; i++) {
		const char *spec = src->specs[i].spec, *slash = strrchr(spec, '/');
		rule *r = &rs->r[rs->n++];
		r->exclude = src->specs[i].is_exclude;
		r->recursive = src->specs[i].is_recursive;
		if (slash && strpbrk(slash + 1, "*?[")) {
			r->base = slash == spec ? ob_strdup("/") : strndup(spec, (size_t)(slash - spec));
			r->pattern = ob_strdup(slash + 1);
			if (!r->base || !r->pattern)
				return ob_err_nomem();
		} else if (!(r->base = ob_strdup(spec))) {
			return OB_ENOMEM;
		}
		r->base_len = strlen(r->base);
	}
	return 0;
}

/*
 * Whether a file name matches a rule's pattern, with MARS's (Windows's) reading:
 * '*' matches a leading dot too, and a pattern ending in ".*" also matches the
 * name without an extension, so "*.*" is every file and "report.*" takes "report".
 */
static int name_matches(const char *pattern, const char *name)
{
	size_t pl = strlen(pattern);
	char stem[256]; /* one path component */

	if (ob_platform_name_match(pattern, name, ob_platform_names_casefold()))
		return 1;
	if (pl < 2 || pattern[pl - 2] != '.' || pattern[pl - 1] != '*' || pl - 2 >= sizeof(stem) || strchr(name, '.'))
		return 0;
	memcpy(stem, pattern, pl - 2);
	stem[pl - 2] = '\0';
	return ob_platform_name_match(stem, name, ob_platform_names_casefold());
}

/* Is path p (length n) equal to or below folder base? */
static int under(const char *p, size_t n, const char *base, size_t bl)
{
	if (bl == 1 && base[0] == '/')
		return 1;
	return n >= bl && (n == bl || p[bl] == '/') && ob_platform_names_equal(p, bl, base, bl);
}

static size_t parent_len(const char *p, size_t n)
{
	while (n > 1 && p[n - 1] != '/')
		n--;
	return n > 1 ? n - 1 : 1;
}

/*
 * Names and folders compare as the platform's file names do (without case on
 * Windows, as MARS matches; byte for byte on POSIX: ob_platform_names_equal).
 *
 * Whether a path is selected: the most specific matching rule decides (the
 * longest base; a wildcard rule is more specific than its folder; an exclusion
 * wins a tie). 1 selected, 0 not.
 */
int ob_rules_selected(const ruleset *rs, const char *p, size_t n, int is_dir)
{
	size_t i, pl = parent_len(p, n), best = 0;
	int found = 0, verdict = 0;
	const char *name = p + (pl == 1 ? 1 : pl + 1);

	for (i = 0; i < rs->n; i++) {
		const rule *r = &rs->r[i];
		size_t score;
		if (r->pattern) {
			int in_dir = pl == r->base_len && ob_platform_names_equal(p, pl, r->base, pl);
			/* An inclusion's pattern names files (as MARS's C:\dir\*.*): folders are only walked through. */
			if (is_dir && !r->exclude)
				continue;
			if (!(in_dir || (r->recursive && under(p, pl, r->base, r->base_len))))
				continue;
			if (!name_matches(r->pattern, name))
				continue;
			score = 2 * r->base_len + 1;
		} else if (n == r->base_len && ob_platform_names_equal(p, n, r->base, n)) {
			score = 2 * r->base_len;
		} else if (under(p, n, r->base, r->base_len)) {
			/* Below the rule's folder: recursive rules cover all, others the folder's own files. */
			if (!r->recursive && (is_dir || pl != r->base_len))
				continue;
			score = 2 * r->base_len;
		} else {
			continue;
		}
		if (!found || score > best || (score == best && r->exclude)) {
			best = score;
			verdict = !r->exclude;
			found = 1;
		}
	}
	return found && verdict;
}

/*
 * Whether an exclusion keeps folder p (length n) out although the wildcard
 * inclusion r matches file names below it: a recursive exclusion of p or of a
 * folder above it that is more specific than r (selected's scores), or a
 * wildcard exclusion that names p and is at least as specific (as a folder that
 * an exclusion names is not walked into).
 */
static int excluded_below(const ruleset *rs, const rule *r, const char *p, size_t n)
{
	size_t i, pl = parent_len(p, n);
	const char *name = p + (pl == 1 ? 1 : pl + 1);

	for (i = 0; i < rs->n; i++) {
		const rule *e = &rs->r[i];
		if (!e->exclude)
			continue;
		if (e->pattern) {
			int in_dir = pl == e->base_len && memcmp(p, e->base, pl) == 0;
			if ((in_dir || (e->recursive && under(p, pl, e->base, e->base_len))) && e->base_len >= r->base_len &&
			    name_matches(e->pattern, name))
				return 1;
		} else if (e->recursive && e->base_len > r->base_len && under(p, n, e->base, e->base_len)) {
			return 1;
		}
	}
	return 0;
}

/*
 * Whether folder p can hold a file that an inclusion selects: some inclusion
 * lies strictly below it, or p is the folder of a wildcard inclusion (or, when
 * that one is recursive, one of its subfolders) and no exclusion keeps p's files out.
 */
int ob_rules_lead_to_inclusion(const ruleset *rs, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const rule *r = &rs->r[i];
		if (r->exclude)
			continue;
		if (r->base_len > n && under(r->base, r->base_len, p, n))
			return 1;
		if (r->pattern && ((n == r->base_len && memcmp(p, r->base, n) == 0) ||
		    (r->recursive && under(p, n, r->base, r->base_len))) && !excluded_below(rs, r, p, n))
			return 1;
	}
	return 0;
}

/*
 * Whether a path can matter at all: it lies on the way to an inclusion or below
 * one. Only those are looked at, so a walk down to /srv/data never touches /srv's
 * other entries.
 */
int ob_rules_worth_looking(const ruleset *rs, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		const rule *r = &rs->r[i];
		if (!r->exclude && (under(p, n, r->base, r->base_len) || under(r->base, r->base_len, p, n)))
			return 1;
	}
	return 0;
}

